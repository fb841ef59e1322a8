from billbee_wemalo_events.cli import main

raise SystemExit(main())
