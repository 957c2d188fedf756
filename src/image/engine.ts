/**
 * Is a container engine reachable? Asked once per command: the docker CLI (or the configured
 * one) must exist and its daemon must answer `info` (honouring DOCKER_HOST).
 */
import { spawn } from 'node:child_process';

export interface EngineStatus {
  available: boolean;
  version?: string;
  reason?: string;
}

export function detectEngine(cli = 'docker', timeoutMs = 5_000): Promise<EngineStatus> {
  return new Promise((resolve) => {
    const child = spawn(cli, ['info', '--format', '{{.ServerVersion}}'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({
        available: false,
        reason: `${cli} info did not answer within ${timeoutMs / 1000}s`,
      });
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        available: false,
        reason: error.code === 'ENOENT' ? `no ${cli} CLI on PATH` : error.message,
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const version = out.trim();
      if (code === 0 && version) resolve({ available: true, version });
      else resolve({ available: false, reason: 'no container engine answers' });
    });
  });
}
