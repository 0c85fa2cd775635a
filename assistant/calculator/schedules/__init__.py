"""Fee schedule data files (TOML), one per partnership; a package so the files ship with the code."""
