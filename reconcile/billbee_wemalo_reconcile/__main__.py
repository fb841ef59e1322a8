from billbee_wemalo_reconcile.cli import main

raise SystemExit(main())
