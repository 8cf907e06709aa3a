import { readFileSync } from "node:fs";

/** Facts about the machine that explain why a sensor may be missing. */
export interface MachineFacts {
  /** A hypervisor was detected (the "hypervisor" CPU flag, or a known DMI vendor). */
  virtualMachine: boolean;
  hypervisorHint: string | null;
  kernel: string | null;
  runningAsRoot: boolean;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

export function readMachineFacts(procRoot = "/proc", sysRoot = "/sys"): MachineFacts {
  const cpuinfo = read(`${procRoot}/cpuinfo`) ?? "";
  const flagsLine = cpuinfo.split("\n").find((line) => line.startsWith("flags")) ?? "";
  const hypervisorFlag = /\bhypervisor\b/.test(flagsLine);
  const vendor = read(`${sysRoot}/class/dmi/id/sys_vendor`);
  const product = read(`${sysRoot}/class/dmi/id/product_name`);
  const dmi = [vendor, product].filter(Boolean).join(" ");
  const knownVm =
    /(KVM|QEMU|VMware|VirtualBox|Xen|Amazon EC2|Google Compute Engine|Microsoft Corporation Virtual|Hyper-V|Firecracker)/i.test(
      dmi,
    );
  return {
    virtualMachine: hypervisorFlag || knownVm,
    hypervisorHint: knownVm ? dmi : hypervisorFlag ? "CPU reports the hypervisor flag" : null,
    kernel: read(`${procRoot}/sys/kernel/osrelease`),
    runningAsRoot: typeof process.getuid === "function" ? process.getuid() === 0 : false,
  };
}
