complete --keep-order --exclusive --command relctl --arguments "(COMPLETE=fish relctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
