"""``python -m crm_sync.cli``: the same entry point as the ``crm-sync`` console script."""

from crm_sync.cli.main import main

main()
