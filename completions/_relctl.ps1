
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'relctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'relctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'relctl' {
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the plan: syntax, unknown keys, references, templates, jq, durations')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Show what promote would do, templates rendered and secrets masked')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Promote an artifact through the environments in order')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a release that paused or was interrupted')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)')
            [CompletionResult]::new('reject', 'reject', [CompletionResultType]::ParameterValue, 'Reject a release for an environment')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Stop a release under way; its environment goes back to what was live before')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Redeploy the previous live release of an environment, skipping analysis and approval')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what is live in each environment, and record commits not yet pushed')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show recorded events, newest first, or one release in full')
            [CompletionResult]::new('releases', 'releases', [CompletionResultType]::ParameterValue, 'List releases, newest first: version, when created, where live and where rejected')
            [CompletionResult]::new('notes', 'notes', [CompletionResultType]::ParameterValue, 'Write release notes: the commits between what is live in ENV and this release')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Break a stale environment lock (recorded with the reason)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a whole release on this machine against an embedded simulated service')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the relctl(1) man page, or write all pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relctl;validate' {
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;plan' {
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Plan up to this environment (default: the last)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;promote' {
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'The artifact: NAME@sha256:<64 hex>, or a bare sha256:<64 hex>')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Promote up to this environment (default: the last)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Promote into exactly this environment')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'A human version for the release (default: the short digest)')
            [CompletionResult]::new('--wait-approval', '--wait-approval', [CompletionResultType]::ParameterName, 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait for a locked environment (up to DUR) instead of exiting 5')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why: recorded with --force or --override-freeze')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Promote although the order or soak rule says no (needs --reason; recorded with your name)')
            [CompletionResult]::new('--override-freeze', '--override-freeze', [CompletionResultType]::ParameterName, 'Promote into a frozen environment (needs --reason; recorded)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;resume' {
            [CompletionResult]::new('--wait-approval', '--wait-approval', [CompletionResultType]::ParameterName, 'Without a terminal, wait for approvals (up to DUR) instead of exiting 4')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;approve' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment the approval is for')
            [CompletionResult]::new('--comment', '--comment', [CompletionResultType]::ParameterName, 'A comment kept with the approval')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;reject' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment the rejection is for')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;abort' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;rollback' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to roll back')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The release to go back to (must have been live there before; the start of its id will do)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--no-undo', '--no-undo', [CompletionResultType]::ParameterName, 'Skip the `undo` of the rolled-back release''s steps (recorded)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;status' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment')
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'With --all: only this app')
            [CompletionResult]::new('--records', '--records', [CompletionResultType]::ParameterName, 'Read this records repository (a directory or a URL) instead of the plan''s; needs no plan')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The records branch in --records [default: relctl/records]')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every app and environment in the record: the organisation''s view')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;history' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many entries')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;releases' {
            [CompletionResult]::new('--app', '--app', [CompletionResultType]::ParameterName, 'Only this app''s releases [default: the plan''s app; with --records, every app''s]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only releases that have been in this environment')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many releases')
            [CompletionResult]::new('--records', '--records', [CompletionResultType]::ParameterName, 'Read this records repository (a directory or a URL) instead of the plan''s; needs no plan')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The records branch in --records [default: relctl/records]')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;notes' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Compare with what is live in this environment (default: the last)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;report' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Only this environment')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only releases within this long (e.g. 30d)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;unlock' {
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'The environment to unlock')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;demo' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Keep the records repository here (default: a temporary directory)')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--fail', '--fail', [CompletionResultType]::ParameterName, 'Make the new version misbehave so the canary is rolled back')
            [CompletionResult]::new('--serve', '--serve', [CompletionResultType]::ParameterName, 'Keep the simulated service running and print a plan to try by hand')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;completions' {
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write relctl.1 and one page per subcommand into this directory')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'The release plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'How to print: `human` on a terminal, `plain` otherwise; `json` is one object per line')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and data')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More diagnostics (-v debug, -vv trace; RELCTL_LOG overrides)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt (implied when stdin is not a terminal or CI is set)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Leave the records remote alone: read the local record, keep new commits here')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'relctl;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check the plan: syntax, unknown keys, references, templates, jq, durations')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Show what promote would do, templates rendered and secrets masked')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Promote an artifact through the environments in order')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a release that paused or was interrupted')
            [CompletionResult]::new('approve', 'approve', [CompletionResultType]::ParameterValue, 'Approve a release into an environment (as RELCTL_ACTOR, else git user.email)')
            [CompletionResult]::new('reject', 'reject', [CompletionResultType]::ParameterValue, 'Reject a release for an environment')
            [CompletionResult]::new('abort', 'abort', [CompletionResultType]::ParameterValue, 'Stop a release under way; its environment goes back to what was live before')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Redeploy the previous live release of an environment, skipping analysis and approval')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what is live in each environment, and record commits not yet pushed')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show recorded events, newest first, or one release in full')
            [CompletionResult]::new('releases', 'releases', [CompletionResultType]::ParameterValue, 'List releases, newest first: version, when created, where live and where rejected')
            [CompletionResult]::new('notes', 'notes', [CompletionResultType]::ParameterValue, 'Write release notes: the commits between what is live in ENV and this release')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Report delivery metrics: deployment frequency, lead time, change failure rate, time to restore')
            [CompletionResult]::new('unlock', 'unlock', [CompletionResultType]::ParameterValue, 'Break a stale environment lock (recorded with the reason)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a whole release on this machine against an embedded simulated service')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the relctl(1) man page, or write all pages into a directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relctl;help;validate' {
            break
        }
        'relctl;help;plan' {
            break
        }
        'relctl;help;promote' {
            break
        }
        'relctl;help;resume' {
            break
        }
        'relctl;help;approve' {
            break
        }
        'relctl;help;reject' {
            break
        }
        'relctl;help;abort' {
            break
        }
        'relctl;help;rollback' {
            break
        }
        'relctl;help;status' {
            break
        }
        'relctl;help;history' {
            break
        }
        'relctl;help;releases' {
            break
        }
        'relctl;help;notes' {
            break
        }
        'relctl;help;report' {
            break
        }
        'relctl;help;unlock' {
            break
        }
        'relctl;help;demo' {
            break
        }
        'relctl;help;completions' {
            break
        }
        'relctl;help;man' {
            break
        }
        'relctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
