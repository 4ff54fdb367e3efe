// The CrisisPlaybook module: playbook and contacts loading, validation, and drawing.
