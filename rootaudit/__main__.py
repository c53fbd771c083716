from rootaudit.cli import main

raise SystemExit(main())
