import CrisisCLI

await CrisisCommand.entry()
