"""Files in, model out: playbooks, inventories (ours and Ansible's), secrets, plan files, templates."""
