// Loaded with --require into a timed kmsctl run: writes the process's peak RSS (KB) on exit.
const {writeFileSync} = require('node:fs')

process.on('exit', () => {
  const file = process.env.KMSCTL_BENCH_RSS_FILE
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS))
})
