/* Lets valgrind 3.19 (Debian 12) run Swift programs with an async main.
 *
 * The main thread of such a program parks in libdispatch's _dispatch_sig_thread, which calls
 * sigsuspend() with a mask in read-only memory; valgrind's PRE(sys_rt_sigsuspend) writes into the
 * mask it is given and dies with SIGSEGV ("VALGRIND INTERNAL ERROR ... signal 11"). This passes
 * the kernel a writable copy instead. Build and use (see ../README.md):
 *
 *   cc -O2 -shared -fPIC -o /tmp/sigsuspend-shim.so Benchmarks/callgrind/sigsuspend-shim.c
 *   LD_PRELOAD=/tmp/sigsuspend-shim.so valgrind --tool=callgrind ./program
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
  sigset_t copy = *mask;
  return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
