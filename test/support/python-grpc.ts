import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The Python gRPC client check (test/support/grpc_check.py): a Python with grpcio and protobuf,
 * and protoc. The test stack installs them where it can (infra/stack/up.sh: Debian's
 * python3-grpcio, python3-protobuf, protobuf-compiler); where none is found the test says what
 * to install and skips.
 */
export function pythonGrpc(): { ok: true; bin: string; script: string } | { ok: false; why: string } {
  const script = fileURLToPath(new URL('./grpc_check.py', import.meta.url));
  if (spawnSync('protoc', ['--version']).status !== 0) return { ok: false, why: 'no protoc (Debian: apt-get install protobuf-compiler)' };
  // Debian's python3 first: its grpcio comes from python3-grpcio.
  for (const bin of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(bin, ['-c', 'import grpc, google.protobuf']).status === 0) return { ok: true, bin, script };
  }
  return { ok: false, why: 'no Python with grpcio and protobuf (Debian: apt-get install python3-grpcio python3-protobuf)' };
}
