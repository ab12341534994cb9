#!/usr/bin/perl
# hotline lab: make the API user, its rights, the department queues and the work-order custom
# fields in a Request Tracker 5 database. Idempotent: every object is loaded before it is
# created, and the script prints one line per object it had to create or change.
#
# Called by lab/rt.sh with RT_SITE_CONFIG / RT_SITE_CONFIG_DIR pointing at the lab config.
#   perl lab/rt-bootstrap.pl <api-user> <api-password> <token-file>
# The token file is written (mode 0600) only when the user has no token yet; the auth string is
# not stored in RT (only its hash), so the file is the one copy.
use strict;
use warnings;
use lib '/usr/share/request-tracker5/lib', '/usr/local/share/request-tracker5/lib';
use RT -init;

my ($user_name, $password, $token_file) = @ARGV;
die "usage: $0 <api-user> <api-password> <token-file>\n" unless $token_file;

my @QUEUES = (
    [ 'commerce',       '市场监管 / 商务 (commerce, market regulation)' ],
    [ 'labour_social',  '人社 (labour and social security)' ],
    [ 'housing_fund',   '公积金 (housing provident fund)' ],
    [ 'environment',    '生态环境 (environment)' ],
    [ 'transport',      '交通运输 (transport)' ],
    [ 'general',        '综合 (general: not yet dispatched)' ],
);

# name => [type, max values (1 single, 0 multiple), values for Select, description]
my @FIELDS = (
    [ 'Caller Number',  'Freeform', 1, undef, 'E.164 or national number of the citizen (CALLERID(num))' ],
    [ 'Call Type',      'Select',   1, [qw(consultation request complaint suggestion)], 'work-order type; sets the SLA' ],
    [ 'District',       'Freeform', 1, undef, 'district (区/县) the matter belongs to' ],
    [ 'Linkedid',       'Freeform', 1, undef, 'Asterisk linkedid of the call: one ticket per call' ],
    [ 'Recording',      'Freeform', 1, undef, 'URL of the call recording' ],
    [ 'Satisfaction',   'Select',   1, [qw(satisfied basically_satisfied dissatisfied)], 'callback survey result' ],
    [ 'Hotline Events', 'Freeform', 0, undef, 'outbox event ids already applied (idempotency keys)' ],
);

my @USER_RIGHTS = qw(
    SeeQueue ShowTicket CreateTicket ModifyTicket CommentOnTicket ShowTicketComments
    ReplyToTicket SeeCustomField ModifyCustomField ManageAuthTokens
);

my $system = RT->SystemUser;

# --- user --------------------------------------------------------------------------------
my $user = RT::User->new($system);
$user->Load($user_name);
unless ($user->id) {
    my ($ok, $msg) = $user->Create(
        Name => $user_name, RealName => 'hotline integration', Privileged => 1,
        EmailAddress => "$user_name\@hotline.lab",
    );
    die "create user $user_name: $msg\n" unless $ok;
    print "created user $user_name\n";
}
unless ($user->IsPassword($password)) {
    my ($ok, $msg) = $user->SetPassword($password);
    die "set password for $user_name: $msg\n" unless $ok;
    print "set password for $user_name\n";
}
unless ($user->Privileged) {
    my ($ok, $msg) = $user->SetPrivileged(1);
    die "make $user_name privileged: $msg\n" unless $ok;
    print "made $user_name privileged\n";
}
for my $right (@USER_RIGHTS) {
    next if $user->PrincipalObj->HasRight(Right => $right, Object => RT->System);
    my ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
    die "grant $right to $user_name: $msg\n" unless $ok;
    print "granted $right to $user_name\n";
}

# --- queues ------------------------------------------------------------------------------
my @queue_objs;
for my $q (@QUEUES) {
    my ($name, $description) = @$q;
    my $queue = RT::Queue->new($system);
    $queue->Load($name);
    unless ($queue->id) {
        my ($ok, $msg) = $queue->Create(Name => $name, Description => $description);
        die "create queue $name: $msg\n" unless $ok;
        print "created queue $name\n";
    }
    push @queue_objs, $queue;
}

# --- custom fields -----------------------------------------------------------------------
for my $f (@FIELDS) {
    my ($name, $type, $max, $values, $description) = @$f;
    my $cf = RT::CustomField->new($system);
    $cf->LoadByName(Name => $name, LookupType => RT::Ticket->CustomFieldLookupType);
    unless ($cf->id) {
        my ($ok, $msg) = $cf->Create(
            Name => $name, Type => $type, MaxValues => $max, Description => $description,
            LookupType => RT::Ticket->CustomFieldLookupType,
        );
        die "create custom field $name: $msg\n" unless $ok;
        print "created custom field $name\n";
    }
    if ($values) {
        my %have = map { $_->Name => 1 } @{ $cf->Values->ItemsArrayRef };
        my $order = 0;
        for my $v (@$values) {
            $order++;
            next if $have{$v};
            my ($ok, $msg) = $cf->AddValue(Name => $v, SortOrder => $order);
            die "add value $v to $name: $msg\n" unless $ok;
            print "added value $v to custom field $name\n";
        }
    }
    for my $queue (@queue_objs) {
        next if $cf->IsAdded($queue->id);
        my ($ok, $msg) = $cf->AddToObject($queue);
        die "apply custom field $name to queue " . $queue->Name . ": $msg\n" unless $ok;
        print "applied custom field $name to queue " . $queue->Name . "\n";
    }
}

# --- auth token (RT::Authen::Token, core in RT 5) -----------------------------------------
my $tokens = RT::AuthTokens->new($system);
$tokens->LimitOwner(VALUE => $user->id);
$tokens->Limit(FIELD => 'Description', VALUE => 'hotline lab');
if (!$tokens->Count || !-s $token_file) {
    while (my $old = $tokens->Next) { $old->Delete; }
    my $token = RT::AuthToken->new($system);
    my ($id, $msg, $authstring) = $token->Create(Owner => $user->id, Description => 'hotline lab');
    die "create auth token for $user_name: $msg\n" unless $id;
    my $old_umask = umask 077;
    open my $fh, '>', $token_file or die "write $token_file: $!\n";
    print $fh "$authstring\n";
    close $fh;
    umask $old_umask;
    print "created auth token for $user_name\n";
}
