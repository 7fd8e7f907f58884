/**
 * `npm run bench`: the same rush (bin/rush.ts) for every strategy, the unsafe control
 * included, one after the other, each on a fresh DynamoDB Local and a fresh API process; then
 * the performance ×
 * correctness matrix goes into BENCHMARKS.md and the throughput/latency chart into
 * benchmarks/rush-timeline.svg. Exits 1 if a safe strategy fails its audit.
 *
 *   npm run bench                                  100,000 buyers, 10,000 tickets per strategy
 *   npm run bench -- --buyers 5000 --tickets 500   a quick one
 *   npm run bench -- --strategies sharded,transactional --markdown /tmp/b.md --chart /tmp/b.svg
 *   npm run bench -- --from .stampede/rush/<run>-bench/bench-results.json   re-render a past run's report
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { strategies as allStrategies, defaultShardCount } from '../functions/domain/model';
import { type BenchMeta, benchMarkdown, spliceBenchSection } from '../load/bench-report';
import { defaultOutputDir, readRushFlags, readStrategies, rushDefaults, rushFlagSpecs, UsageError } from '../load/cli-options';
import { type RushResult, runRush } from '../load/rush';
import { formatSummary } from '../load/summary';
import { timelineChart } from '../load/svg-chart';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(__dirname, '..');
const usage = `Usage: npm run bench -- [--buyers ${rushDefaults.buyers}] [--tickets ${rushDefaults.tickets}] [--arrival-rate ${rushDefaults.arrivalRate}]
       [--shards ${defaultShardCount}] [--raw-seconds ${rushDefaults.rawSeconds}] [--warm-up-seconds ${rushDefaults.warmUpSeconds}] [--hold-seconds ${rushDefaults.holdSeconds}] [--artillery-nice ${rushDefaults.artilleryNice}] [--strategies ${allStrategies.join(',')}]
       [--markdown BENCHMARKS.md] [--chart benchmarks/rush-timeline.svg]
       npm run bench -- --from <bench-results.json> [--markdown ...] [--chart ...]   (re-render a past run, run nothing)`;

/** What a bench run saves next to its rushes, enough to render its report again. */
interface SavedBench {
  readonly meta: Omit<BenchMeta, 'chartPath'>;
  readonly results: RushResult[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ...rushFlagSpecs,
      strategies: { type: 'string' },
      markdown: { type: 'string' },
      chart: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const markdownPath = resolve(values.markdown ?? join(root, 'BENCHMARKS.md'));
  const chartPath = resolve(values.chart ?? join(root, 'benchmarks', 'rush-timeline.svg'));
  if (values.from) {
    const saved = JSON.parse(readFileSync(resolve(values.from), 'utf8')) as SavedBench;
    writeReport(saved, markdownPath, chartPath);
    return 0;
  }
  const flags = readRushFlags(values);
  const strategies = readStrategies(values.strategies);
  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  const runDir = defaultOutputDir(root, 'bench');
  const results: RushResult[] = [];
  // A fresh DynamoDB Local per strategy (the rush's stack starts one; the warm-up phase warms its
  // JVM): DynamoDB Local 1.11.478 slows every later write to a table with a stream once the
  // instance has stream history, even on a new table and after deleting every table (measured:
  // 64 two-item transactions in flight made 214/s on a fresh instance, 26-33/s on the next new
  // table after ~10,000 of them; 194/s on a new table without a stream). With one instance for
  // the whole bench, each strategy ran slower than the one before it.
  for (const strategy of strategies) {
    console.log(`\n=== ${strategy} ===`);
    const result = await runRush({
      ...flags,
      strategy,
      tableName: `stampede-bench-${strategy}`,
      outputDir: join(runDir, strategy),
      log: (line) => console.log(line),
    });
    console.log(`\n${formatSummary(result)}`);
    results.push(result);
  }
  const wallSeconds = (Date.now() - started) / 1000;
  const saved: SavedBench = {
    meta: {
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      date: new Date(started).toISOString(),
      machine: describeMachine(loadAtStart),
      wallSeconds,
    },
    results,
  };
  writeFileSync(join(runDir, 'bench-results.json'), `${JSON.stringify(saved, null, 2)}\n`);
  writeReport(saved, markdownPath, chartPath);
  console.log(`Runs in ${relative(root, runDir)}, ${Math.round(wallSeconds / 60)} min in all`);

  const failedSafe = results.filter((r) => r.options.strategy !== 'unsafe' && (r.audit?.violations.length ?? 0) > 0);
  for (const r of failedSafe) console.error(`${r.options.strategy}: ${r.audit?.violations.length} audit violation(s)`);
  return failedSafe.length > 0 ? 1 : 0;
}

function writeReport({ meta, results }: SavedBench, markdownPath: string, chartPath: string): void {
  mkdirSync(dirname(chartPath), { recursive: true });
  writeFileSync(
    chartPath,
    timelineChart(
      results.map((r) => ({ name: r.options.strategy, points: r.load.timeline })),
      `Rush: ${results[0]?.load.buyers.toLocaleString('en-US')} buyers, ${results[0]?.options.tickets.toLocaleString('en-US')} tickets, per strategy`,
    ),
  );
  const section = benchMarkdown(results, { ...meta, chartPath: relative(dirname(markdownPath), chartPath) });
  writeFileSync(markdownPath, spliceBenchSection(existsSync(markdownPath) ? readFileSync(markdownPath, 'utf8') : undefined, section));
  console.log(`Wrote ${relative(root, markdownPath)} and ${relative(root, chartPath)}`);
}

function describeMachine(loadAtStart: number): string {
  const cpuList = cpus();
  let java = 'Java unknown';
  try {
    // `java -version` writes to stderr.
    java = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8' }).split('\n')[0] ?? java;
  } catch {
    // Keep "unknown": the rush itself would have failed without Java.
  }
  return (
    `${cpuList.length} × ${cpuList[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, ` +
    `Node ${process.version}, ${java}, DynamoDB Local 1.11.478, Artillery 2.0.21 (1 worker); load average at start ${loadAtStart.toFixed(2)}`
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`${(error as Error).message}\n${usage}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
