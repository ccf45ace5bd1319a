"""Records: where a course's files are (`course`), what the gradebook's tables hold (`gradebook`,
`statuses`), and when work is due (`deadlines`). Imports nothing of the engine or the steps."""
