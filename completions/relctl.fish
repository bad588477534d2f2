# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_relctl_global_optspecs
    string join \n plan= output= color= q/quiet v/verbose no-input offline h/help V/version
end

function __fish_relctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_relctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_relctl_using_subcommand
    set -l cmd (__fish_relctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c relctl -n "__fish_relctl_needs_command" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_needs_command" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_needs_command" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_needs_command" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_needs_command" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_needs_command" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_needs_command" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_needs_command" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_needs_command" -s V -l version -d 'Print version'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "validate" -d 'Check the plan: syntax, unknown keys, references, templates, jq, durations'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "plan" -d 'Show what promote would do, templates rendered and secrets masked'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "promote" -d 'Promote an artifact through the environments in order'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "resume" -d 'Continue a release that paused or was interrupted'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "approve" -d 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "reject" -d 'Reject a release for an environment'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "abort" -d 'Stop a release under way; its environment goes back to what was live before'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "rollback" -d 'Redeploy the previous live release of an environment, skipping analysis and approval'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "status" -d 'Show what is live in each environment, and record commits not yet pushed'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "history" -d 'Show recorded events, newest first, or one release in full'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "releases" -d 'List releases, newest first: version, when created, where live and where rejected'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "notes" -d 'Write release notes: the commits between what is live in ENV and this release'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "report" -d 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "unlock" -d 'Break a stale environment lock (recorded with the reason)'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "demo" -d 'Run a whole release on this machine against an embedded simulated service'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "man" -d 'Print the relctl(1) man page, or write all pages into a directory'
complete -c relctl -n "__fish_relctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relctl -n "__fish_relctl_using_subcommand validate" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand validate" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand validate" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand validate" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand validate" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand validate" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand validate" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand validate" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l artifact -d 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>' -r
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l to -d 'Plan up to this environment (default: the last)' -r
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand plan" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand plan" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand plan" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand plan" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l artifact -d 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l to -d 'Promote up to this environment (default: the last)' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l env -d 'Promote into exactly this environment' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l version -d 'A human version for the release (default: the short digest)' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l wait-approval -d 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l wait-lock -d 'Wait for a locked environment (up to DUR) instead of exiting 5' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l reason -d 'Why: recorded with --force or --override-freeze' -r
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l force -d 'Promote although the order or soak rule says no (needs --reason; recorded with your name)'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l override-freeze -d 'Promote into a frozen environment (needs --reason; recorded)'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand promote" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l wait-approval -d 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4' -r
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand resume" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand resume" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand resume" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand resume" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l env -d 'The environment the approval is for' -r
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l comment -d 'A comment kept with the approval' -r
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand approve" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand approve" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand approve" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand approve" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l env -d 'The environment the rejection is for' -r
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l reason -d 'Why (recorded)' -r
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand reject" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand reject" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand reject" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand reject" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l reason -d 'Why (recorded)' -r
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand abort" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand abort" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand abort" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand abort" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l env -d 'The environment to roll back' -r
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l to -d 'The release to go back to (must have been live there before; the start of its id will do)' -r
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l reason -d 'Why (recorded)' -r
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l no-undo -d 'Skip the `undo` of the rolled-back release\'s steps (recorded)'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand status" -l env -d 'Only this environment' -r
complete -c relctl -n "__fish_relctl_using_subcommand status" -l app -d 'With --all: only this app' -r
complete -c relctl -n "__fish_relctl_using_subcommand status" -l records -d 'Read this records repository (a directory or a URL) instead of the plan\'s; needs no plan' -r
complete -c relctl -n "__fish_relctl_using_subcommand status" -l branch -d 'The records branch in --records [default: relctl/records]' -r
complete -c relctl -n "__fish_relctl_using_subcommand status" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand status" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand status" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand status" -l all -d 'Every app and environment in the record: the organisation\'s view'
complete -c relctl -n "__fish_relctl_using_subcommand status" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand status" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand status" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand status" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand history" -l env -d 'Only this environment' -r
complete -c relctl -n "__fish_relctl_using_subcommand history" -l limit -d 'At most this many entries' -r
complete -c relctl -n "__fish_relctl_using_subcommand history" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand history" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand history" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand history" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand history" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand history" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand history" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand history" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l app -d 'Only this app\'s releases [default: the plan\'s app; with --records, every app\'s]' -r
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l env -d 'Only releases that have been in this environment' -r
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l limit -d 'At most this many releases' -r
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l records -d 'Read this records repository (a directory or a URL) instead of the plan\'s; needs no plan' -r
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l branch -d 'The records branch in --records [default: relctl/records]' -r
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand releases" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand releases" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand releases" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand releases" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l env -d 'Compare with what is live in this environment (default: the last)' -r
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand notes" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand notes" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand notes" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand notes" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand report" -l env -d 'Only this environment' -r
complete -c relctl -n "__fish_relctl_using_subcommand report" -l since -d 'Only releases within this long (e.g. 30d)' -r
complete -c relctl -n "__fish_relctl_using_subcommand report" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand report" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand report" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand report" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand report" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand report" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand report" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand report" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l env -d 'The environment to unlock' -r
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l reason -d 'Why (recorded)' -r
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand unlock" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l dir -d 'Keep the records repository here (default: a temporary directory)' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l fail -d 'Make the new version misbehave so the canary is rolled back'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l serve -d 'Keep the simulated service running and print a plan to try by hand'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand demo" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand completions" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand completions" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand completions" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand completions" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand completions" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand completions" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand completions" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand man" -l dir -d 'Write relctl.1 and one page per subcommand into this directory' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand man" -l plan -d 'The release plan' -r -F
complete -c relctl -n "__fish_relctl_using_subcommand man" -l output -d 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line' -r -f -a "human\t''
plain\t''
json\t''"
complete -c relctl -n "__fish_relctl_using_subcommand man" -l color -d 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c relctl -n "__fish_relctl_using_subcommand man" -s q -l quiet -d 'Print only errors and data'
complete -c relctl -n "__fish_relctl_using_subcommand man" -s v -l verbose -d 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
complete -c relctl -n "__fish_relctl_using_subcommand man" -l no-input -d 'Never prompt (implied when stdin is not a terminal or CI is set)'
complete -c relctl -n "__fish_relctl_using_subcommand man" -l offline -d 'Leave the records remote alone: read the local record, keep new commits here'
complete -c relctl -n "__fish_relctl_using_subcommand man" -s h -l help -d 'Print help'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "validate" -d 'Check the plan: syntax, unknown keys, references, templates, jq, durations'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "plan" -d 'Show what promote would do, templates rendered and secrets masked'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "promote" -d 'Promote an artifact through the environments in order'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "resume" -d 'Continue a release that paused or was interrupted'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "approve" -d 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "reject" -d 'Reject a release for an environment'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "abort" -d 'Stop a release under way; its environment goes back to what was live before'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "rollback" -d 'Redeploy the previous live release of an environment, skipping analysis and approval'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "status" -d 'Show what is live in each environment, and record commits not yet pushed'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "history" -d 'Show recorded events, newest first, or one release in full'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "releases" -d 'List releases, newest first: version, when created, where live and where rejected'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "notes" -d 'Write release notes: the commits between what is live in ENV and this release'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "report" -d 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "unlock" -d 'Break a stale environment lock (recorded with the reason)'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "demo" -d 'Run a whole release on this machine against an embedded simulated service'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "man" -d 'Print the relctl(1) man page, or write all pages into a directory'
complete -c relctl -n "__fish_relctl_using_subcommand help; and not __fish_seen_subcommand_from validate plan promote resume approve reject abort rollback status history releases notes report unlock demo completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
