"""The `xconv` command line (installed as the `xconv_cli` package from the `cli/` folder)."""
