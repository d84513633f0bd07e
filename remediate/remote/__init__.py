"""What a host runs: the read, write and lock scripts and the parsers of their answers. Pure builders."""
