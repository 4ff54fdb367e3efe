import CrisisCLI

await CrisisCommand.main()
