// Loaded with --require into a timed kmsctl run: writes the process's peak RSS (KB) and CPU time (ms)
// on exit, as "RSS_KB CPU_MS".
const {writeFileSync} = require('node:fs')

process.on('exit', () => {
  const file = process.env.KMSCTL_BENCH_RSS_FILE
  if (!file) return
  const u = process.resourceUsage()
  writeFileSync(file, `${u.maxRSS} ${Math.round((u.userCPUTime + u.systemCPUTime) / 1000)}`)
})
