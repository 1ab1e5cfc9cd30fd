// warren-launch: starts a batch of services, each in its network namespace and in new PID, mount
// and UTS namespaces, with two forks per service and one exec (the service's own command). It does
// what `setpriv --pdeathsig`, `nsenter --net`, `unshare --pid --mount --uts --fork --kill-child
// --mount-proc` and an init script did, without their five execs per service (Mininet's mnexec
// is the same idea).
//
// Usage: warren-launch OWNER_PID < spec
//   spec (stdin): NUL-terminated fields: "warren-launch/1", COUNT, then per service:
//     NETNS_PATH HOSTNAME HOSTS_FILE CWD ARGC ARGV... ENVC ENV...
//   fds 3+2i and 4+2i: stdout and stderr of service i.
//   stdout: "started I PID\n" per service (PID: its init, which leads its process group), then
//     "exit I CODE SIGNAL\n" as each ends (CODE or SIGNAL is -1; a command killed by signal N
//     exits 128+N).
//
// Per service: owner → launcher → init (PID 1 of the service's namespace: reaps orphans) →
// command. The launcher and each init die with their parent (PR_SET_PDEATHSIG), and when an init
// dies the kernel kills its whole namespace, so a kill -9 of the owner still kills every service.
// A stop is SIGTERM (or INT, HUP, QUIT, USR1, USR2) to the init, which passes it to the command
// exactly once, even if the command does not exist yet; SIGKILL goes to the init's group.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPEC_VERSION "warren-launch/1"
#define EXIT_LAUNCH 125 /* like env(1) and container runtimes: the launcher, not the command, failed */

extern char **environ;

struct service {
  char *netns, *hostname, *hosts, *cwd;
  char **argv, **envp;
  int stdout_fd, stderr_fd;
  int netns_fd, netns_errno; /* opened before /run/netns is detached */
  pid_t init;
};

static char *spec, *spec_end, *cursor;

static void die(const char *what) {
  dprintf(2, "warren-launch: %s: %s\n", what, strerror(errno));
  exit(EXIT_LAUNCH);
}

static char *next_field(void) {
  if (cursor >= spec_end) {
    dprintf(2, "warren-launch: spec ends early\n");
    exit(EXIT_LAUNCH);
  }
  char *field = cursor;
  cursor += strlen(field) + 1;
  return field;
}

static long next_count(void) {
  char *end;
  long n = strtol(next_field(), &end, 10);
  if (*end || n < 0 || n > 100000) {
    dprintf(2, "warren-launch: bad count in spec\n");
    exit(EXIT_LAUNCH);
  }
  return n;
}

static char **next_list(void) {
  long n = next_count();
  char **list = calloc(n + 1, sizeof *list);
  if (!list) die("calloc");
  for (long i = 0; i < n; i++) list[i] = next_field();
  return list;
}

static void read_spec(void) {
  size_t size = 0, cap = 1 << 16;
  spec = malloc(cap);
  if (!spec) die("malloc");
  for (;;) {
    if (size == cap && !(spec = realloc(spec, cap *= 2))) die("realloc");
    ssize_t n = read(0, spec + size, cap - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read spec");
    if (n == 0) break;
    size += n;
  }
  if (size == 0 || spec[size - 1] != '\0') {
    dprintf(2, "warren-launch: spec must end with a NUL\n");
    exit(EXIT_LAUNCH);
  }
  cursor = spec;
  spec_end = spec + size;
  if (strcmp(next_field(), SPEC_VERSION) != 0) {
    dprintf(2, "warren-launch: expected spec %s\n", SPEC_VERSION);
    exit(EXIT_LAUNCH);
  }
}

/** Signals a stop may send: the init passes each on to the command. */
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define FORWARDED_COUNT (sizeof forwarded / sizeof *forwarded)

static void on_forwarded(void (*handler)(int)) {
  struct sigaction sa = {0};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaction(forwarded[i], &sa, NULL);
}

static void block_forwarded(int how) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaddset(&set, forwarded[i]);
  sigprocmask(how, &set, NULL);
}

/** The service's own process: default signals, its cwd and environment, then exec. */
static void exec_command(struct service *s) {
  on_forwarded(SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); // a stop that came before this point is delivered now
  if (chdir(s->cwd) < 0) {
    dprintf(2, "warren: cannot enter %s: %s\n", s->cwd, strerror(errno));
    _exit(EXIT_LAUNCH);
  }
  environ = s->envp;
  execvp(s->argv[0], s->argv);
  int code = errno == ENOENT ? 127 : 126;
  dprintf(2, "warren: cannot run %s: %s\n", s->argv[0], strerror(errno));
  _exit(code);
}

/** The command, once forked: where the init passes a stop signal. */
static pid_t command_pid;

static void forward(int sig) {
  if (command_pid > 0) kill(command_pid, sig);
}

/** Open for as long as the launcher lives: readable once it has exited. */
static int launcher_pidfd;

/**
 * PID 1 of the service's new PID, mount and UTS namespaces (cloned so by the launcher): enters
 * the network namespace, names itself, mounts the hosts file and its /proc, runs the command and
 * ends as it ends; the kernel then kills everything left in the namespace.
 */
static int run_init(void *arg) {
  struct service *s = arg;
  setpgid(0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) _exit(EXIT_LAUNCH);
  // The launcher may have died before prctl, and getppid() is 0 in a new PID namespace.
  struct pollfd launcher = {.fd = launcher_pidfd, .events = POLLIN};
  if (poll(&launcher, 1, 0) != 0) _exit(EXIT_LAUNCH);
  close(launcher_pidfd);
  if (dup2(s->stdout_fd, 1) < 0 || dup2(s->stderr_fd, 2) < 0) _exit(EXIT_LAUNCH);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0) die("open /dev/null");
  if (s->netns_fd < 0) {
    errno = s->netns_errno;
    die(s->netns);
  }
  if (setns(s->netns_fd, CLONE_NEWNET) < 0) die("setns");
  close_range(3, ~0U, 0);
  if (sethostname(s->hostname, strlen(s->hostname)) < 0) die("sethostname");
  if (mount(s->hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) die("bind /etc/hosts");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount /proc");
  // The forwarded signals are still blocked (from the launcher): a stop that came early waits here.
  on_forwarded(forward);
  command_pid = fork();
  if (command_pid < 0) die("fork");
  if (command_pid == 0) exec_command(s);
  block_forwarded(SIG_UNBLOCK);
  for (;;) {
    int status;
    pid_t pid = wait(&status);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) _exit(EXIT_LAUNCH);
    if (pid != command_pid) continue; // an orphan reparented to us
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

/** Each init's stack until it forks: the child's own copy of this memory (no CLONE_VM). */
static char init_stack[256 * 1024] __attribute__((aligned(16)));

int main(int argc, char **argv) {
  if (argc != 2) {
    dprintf(2, "usage: warren-launch OWNER_PID < spec\n");
    return 2;
  }
  // If the owner dies, even by SIGKILL, so do we, and with us every init and so every service.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl");
  if (getppid() != atoi(argv[1])) return EXIT_LAUNCH;
  // Blocked from here until each init has forked its command: a stop sent to a service that is
  // still starting waits instead of being lost.
  on_forwarded(SIG_IGN);
  block_forwarded(SIG_BLOCK);
  signal(SIGPIPE, SIG_IGN);
  read_spec();
  long count = next_count();
  struct service *services = calloc(count ? count : 1, sizeof *services);
  if (!services) die("calloc");
  for (long i = 0; i < count; i++) {
    struct service *s = &services[i];
    s->netns = next_field();
    s->hostname = next_field();
    s->hosts = next_field();
    s->cwd = next_field();
    s->argv = next_list();
    s->envp = next_list();
    if (!s->argv[0]) {
      dprintf(2, "warren-launch: service %ld has no command\n", i);
      return EXIT_LAUNCH;
    }
  }
  launcher_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (launcher_pidfd < 0) die("pidfd_open");
  for (long i = 0; i < count; i++) {
    services[i].netns_fd = open(services[i].netns, O_RDONLY | O_CLOEXEC);
    services[i].netns_errno = errno;
  }
  // The services' mount namespaces are copies of this one: private (nothing propagates to the
  // host), and without /run/netns, whose one mount per named namespace would make every copy cost
  // O(namespaces) and keep every namespace of the machine alive for as long as the service runs.
  if (unshare(CLONE_NEWNS) < 0) die("unshare");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
  if (umount2("/run/netns", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) die("detach /run/netns");
  for (long i = 0; i < count; i++) {
    services[i].stdout_fd = 3 + 2 * (int)i;
    services[i].stderr_fd = 4 + 2 * (int)i;
    pid_t pid = clone(run_init, init_stack + sizeof init_stack, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | SIGCHLD, &services[i]);
    if (pid < 0) die("clone");
    setpgid(pid, pid);
    services[i].init = pid;
    dprintf(1, "started %ld %d\n", i, pid);
  }
  close_range(3, ~0U, 0);
  for (long left = count; left > 0;) {
    int status;
    pid_t pid = wait(&status);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) die("wait");
    for (long i = 0; i < count; i++) {
      if (services[i].init != pid) continue;
      dprintf(1, "exit %ld %d %d\n", i, WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
      left--;
    }
  }
  return 0;
}
