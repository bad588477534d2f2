
use builtin;
use str;

set edit:completion:arg-completer[relctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'relctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'relctl'= {
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Check the plan: syntax, unknown keys, references, templates, jq, durations'
            cand plan 'Show what promote would do, templates rendered and secrets masked'
            cand promote 'Promote an artifact through the environments in order'
            cand resume 'Continue a release that paused or was interrupted'
            cand approve 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)'
            cand reject 'Reject a release for an environment'
            cand abort 'Stop a release under way; its environment goes back to what was live before'
            cand rollback 'Redeploy the previous live release of an environment, skipping analysis and approval'
            cand status 'Show what is live in each environment, and record commits not yet pushed'
            cand history 'Show recorded events, newest first, or one release in full'
            cand releases 'List releases, newest first: version, when created, where live and where rejected'
            cand notes 'Write release notes: the commits between what is live in ENV and this release'
            cand report 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore'
            cand unlock 'Break a stale environment lock (recorded with the reason)'
            cand demo 'Run a whole release on this machine against an embedded simulated service'
            cand completions 'Print the completion script for a shell'
            cand man 'Print the relctl(1) man page, or write all pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relctl;validate'= {
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;plan'= {
            cand --artifact 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>'
            cand --to 'Plan up to this environment (default: the last)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;promote'= {
            cand --artifact 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>'
            cand --to 'Promote up to this environment (default: the last)'
            cand --env 'Promote into exactly this environment'
            cand --version 'A human version for the release (default: the short digest)'
            cand --wait-approval 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4'
            cand --wait-lock 'Wait for a locked environment (up to DUR) instead of exiting 5'
            cand --reason 'Why: recorded with --force or --override-freeze'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --force 'Promote although the order or soak rule says no (needs --reason; recorded with your name)'
            cand --override-freeze 'Promote into a frozen environment (needs --reason; recorded)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;resume'= {
            cand --wait-approval 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;approve'= {
            cand --env 'The environment the approval is for'
            cand --comment 'A comment kept with the approval'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;reject'= {
            cand --env 'The environment the rejection is for'
            cand --reason 'Why (recorded)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;abort'= {
            cand --reason 'Why (recorded)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;rollback'= {
            cand --env 'The environment to roll back'
            cand --to 'The release to go back to (must have been live there before; the start of its id will do)'
            cand --reason 'Why (recorded)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --no-undo 'Skip the `undo` of the rolled-back release''s steps (recorded)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;status'= {
            cand --env 'Only this environment'
            cand --app 'With --all: only this app'
            cand --records 'Read this records repository (a directory or a URL) instead of the plan''s; needs no plan'
            cand --branch 'The records branch in --records [default: relctl/records]'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --all 'Every app and environment in the record: the organisation''s view'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;history'= {
            cand --env 'Only this environment'
            cand --limit 'At most this many entries'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;releases'= {
            cand --app 'Only this app''s releases [default: the plan''s app; with --records, every app''s]'
            cand --env 'Only releases that have been in this environment'
            cand --limit 'At most this many releases'
            cand --records 'Read this records repository (a directory or a URL) instead of the plan''s; needs no plan'
            cand --branch 'The records branch in --records [default: relctl/records]'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;notes'= {
            cand --env 'Compare with what is live in this environment (default: the last)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;report'= {
            cand --env 'Only this environment'
            cand --since 'Only releases within this long (e.g. 30d)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;unlock'= {
            cand --env 'The environment to unlock'
            cand --reason 'Why (recorded)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;demo'= {
            cand --dir 'Keep the records repository here (default: a temporary directory)'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --fail 'Make the new version misbehave so the canary is rolled back'
            cand --serve 'Keep the simulated service running and print a plan to try by hand'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;completions'= {
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;man'= {
            cand --dir 'Write relctl.1 and one page per subcommand into this directory'
            cand --plan 'The release plan'
            cand --output 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line'
            cand --color 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)'
            cand -q 'Print only errors and data'
            cand --quiet 'Print only errors and data'
            cand -v 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --verbose 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)'
            cand --no-input 'Never prompt (implied when stdin is not a terminal or CI is set)'
            cand --offline 'Leave the records remote alone: read the local record, keep new commits here'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'relctl;help'= {
            cand validate 'Check the plan: syntax, unknown keys, references, templates, jq, durations'
            cand plan 'Show what promote would do, templates rendered and secrets masked'
            cand promote 'Promote an artifact through the environments in order'
            cand resume 'Continue a release that paused or was interrupted'
            cand approve 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)'
            cand reject 'Reject a release for an environment'
            cand abort 'Stop a release under way; its environment goes back to what was live before'
            cand rollback 'Redeploy the previous live release of an environment, skipping analysis and approval'
            cand status 'Show what is live in each environment, and record commits not yet pushed'
            cand history 'Show recorded events, newest first, or one release in full'
            cand releases 'List releases, newest first: version, when created, where live and where rejected'
            cand notes 'Write release notes: the commits between what is live in ENV and this release'
            cand report 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore'
            cand unlock 'Break a stale environment lock (recorded with the reason)'
            cand demo 'Run a whole release on this machine against an embedded simulated service'
            cand completions 'Print the completion script for a shell'
            cand man 'Print the relctl(1) man page, or write all pages into a directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relctl;help;validate'= {
        }
        &'relctl;help;plan'= {
        }
        &'relctl;help;promote'= {
        }
        &'relctl;help;resume'= {
        }
        &'relctl;help;approve'= {
        }
        &'relctl;help;reject'= {
        }
        &'relctl;help;abort'= {
        }
        &'relctl;help;rollback'= {
        }
        &'relctl;help;status'= {
        }
        &'relctl;help;history'= {
        }
        &'relctl;help;releases'= {
        }
        &'relctl;help;notes'= {
        }
        &'relctl;help;report'= {
        }
        &'relctl;help;unlock'= {
        }
        &'relctl;help;demo'= {
        }
        &'relctl;help;completions'= {
        }
        &'relctl;help;man'= {
        }
        &'relctl;help;help'= {
        }
    ]
    $completions[$command]
}
