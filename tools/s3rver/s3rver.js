// @20minutes/s3rver 4.0.4 ships lib/cli.js but not the bin/ script that calls it.
require('@20minutes/s3rver/lib/cli').parseAsync(process.argv);
