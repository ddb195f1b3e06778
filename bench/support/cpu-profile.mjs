/*
 * Preloaded into a benchmark's child processes (`--import`, through NODE_OPTIONS, which does not
 * accept --cpu-prof) when BENCH_CPU_PROFILE_DIR is set: profiles the whole process and writes
 * `<pid>.cpuprofile` there as it exits. The in-process inspector answers synchronously, so the
 * profile can be taken in the exit handler.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
