/**
 * A description of the machine a benchmark ran on, printed with every figure (BENCHMARKS.md cites it).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** Where and when a benchmark ran. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAverage: number;
}

/** Reads the CPU model from /proc/cpuinfo (falling back to `os.cpus()`), core count, memory and Node version. */
export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) cpuModel = match[1].trim();
  } catch {
    // Not Linux: os.cpus() already gave the model.
  }
  return {
    cpuModel,
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** One line for the top of a report: `AMD EPYC, 2 cores, 23 GB, Node v20.20.2, linux-x64, 2026-11-24`. */
export function describeMachine(info: MachineInfo): string {
  return `${info.cpuModel}, ${info.cores} cores, ${info.memoryGb} GB RAM, Node ${info.node}, ${info.platform}, ${info.date.slice(0, 10)}`;
}

/** Peak resident set size of this process so far, in MB (Linux `VmHWM`; falls back to the current RSS). */
export function peakRssMb(): number {
  try {
    const match = /^VmHWM:\s*(\d+)\s*kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1]) return Math.round(Number(match[1]) / 1024);
  } catch {
    // Not Linux.
  }
  return Math.round(process.memoryUsage.rss() / 2 ** 20);
}
