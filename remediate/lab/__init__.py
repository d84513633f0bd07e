"""The lab fleet (``remediate lab``): imported by nothing in the product but the CLI's lab verb."""
