// warren-launch: starts and owns the services of one instance, each in its network namespace and
// in new PID, mount and UTS namespaces, with two forks per service and one exec (the service's own
// command), and with only the capabilities it was given. It does what `setpriv --pdeathsig`,
// `nsenter --net`, `unshare --pid --mount --uts --fork --kill-child --mount-proc`, `capsh` and an
// init script did, without their five execs per service (Mininet's mnexec is the same idea). It
// writes each service's log, and once detached it is the instance's owner: under 2 MB of RSS
// instead of a Node process.
//
// Usage: warren-launch OWNER_PID   (stdin: the control channel; stdout: reports)
//   stdin: records, each "LENGTH\0" and then LENGTH bytes of NUL-terminated fields:
//     "warren-launch/3" "start" COUNT, then per service (a new field: one line in start_batch
//     and one in launch-session.ts's startRecord, in the same place):
//       NAME NETNS_PATH HOSTNAME HOSTS_FILE CWD LOG_FILE EVENTS_FILE STOP_TIMEOUT_MS CAPS_HEX
//       USER ("-": stay root; else "UID:GID:GROUP,GROUP...", groups possibly empty)
//       READ_ONLY ("0" or "1": the root view read-only except the service's own mounts)
//       MOUNTC (KIND SOURCE TARGET OPTIONS)...  KIND: "bind" | "volume" (a bind whose source is
//         never a symlink) | "tmpfs"; OPTIONS: "ro" or "rw" for binds, tmpfs's "size=..." or "".
//       CGROUPC CGROUP_PROCS...  (cgroup.procs files the init joins before anything else; in a
//         cgroup v1 hierarchy through the `tasks` file beside it, see join_cgroups)
//       HIDDENC HIDDEN... ARGC ARGV... ENVC ENV...
//     "warren-launch/3" "policy" INDEX always|on-failure MAX_RESTARTS INITIAL_MS MAX_MS JOURNAL
//       (before "detach": once detached, service INDEX is started again by that policy, each new
//       process appended to JOURNAL as its start result, the restart told in its EVENTS_FILE)
//     "warren-launch/3" "control" SOCKET_PATH JOURNAL  (before "detach": restart requests, one JSON line
//       {"op":"restart","service":NAME} each, answered {"ok":true,"pid":PID} once it runs again)
//     "warren-launch/3" "detach"
//   Services are numbered in the order they arrive, across records, from 0.
//   stdout, one line each: "started I PID" (PID: its init, which leads its process group; told
//     once the command has been exec'ed, or once the init ended before it could be: a readiness
//     check of kind started() then sees the service's own process), "failed I MESSAGE",
//     "exit I CODE SIGNAL" (CODE or SIGNAL is -1; a command killed by signal N exits 128+N),
//     "out I LINE" / "err I LINE" (a service's output, while attached), "detached".
//
// Per service: owner → launcher → init (PID 1 of the service's namespace: reaps orphans) →
// command. Attached, the launcher dies with its owner (PR_SET_PDEATHSIG) and ends once its stdin
// closes and no service is left. Detached, it lives on its own and appends each service's end to
// EVENTS_FILE. Each init dies with the launcher, and when an init dies the kernel kills its whole
// namespace, so a kill -9 of the owner (the Node process while attached, the launcher once
// detached) still kills every service. SIGTERM (or INT, HUP) to the launcher stops every service
// (SIGTERM, then SIGKILL after its stop timeout) and ends it. A stop is SIGTERM (or INT, HUP, QUIT,
// USR1, USR2) to the init, which passes it to the command exactly once, even if the command does
// not exist yet; SIGKILL goes to the init's group.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL "warren-launch/3"
#define EXIT_LAUNCH 125 /* like env(1) and container runtimes: the launcher, not the command, failed */
#define MAX_LINE (64 * 1024) /* a longer line is split: a service printing without newlines costs no memory */
#define LOG_LIMIT (8 << 20)  /* a log is rotated to <file>.1 past this */
#define EVENTS_LIMIT (1 << 20)
#define OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC)

extern char **environ;

// _exit, not exit: an init must not flush the copy of the launcher's unsent reports it was cloned with.
static void die(const char *what) {
  dprintf(2, "warren-launch: %s: %s\n", what, strerror(errno));
  _exit(EXIT_LAUNCH);
}

static void fail_spec(const char *why) {
  dprintf(2, "warren-launch: bad control record: %s\n", why);
  _exit(EXIT_LAUNCH);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

// ---- reading one control record --------------------------------------------------------------

static char *cursor, *record_end;

static char *next_field(void) {
  if (cursor >= record_end) fail_spec("it ends early");
  char *field = cursor;
  cursor += strlen(field) + 1;
  return field;
}

static long next_number(int base, long max) {
  char *end, *field = next_field();
  long n = strtol(field, &end, base);
  if (!*field || *end || n < 0 || n > max) fail_spec("a count or number is out of range");
  return n;
}

static char **next_list(void) {
  long n = next_number(10, 100000);
  char **list = calloc(n + 1, sizeof *list);
  if (!list) die("calloc");
  for (long i = 0; i < n; i++) list[i] = next_field();
  return list;
}

// ---- the services ----------------------------------------------------------------------------

/** One output stream of a service: what has been read of its current line. */
struct stream {
  int fd; /* -1 once closed */
  size_t len;
  char *line; /* MAX_LINE + 1 bytes, allocated at the first output */
};

struct service {
  char *name, *log_path, *events_path;
  int log_fd;
  off_t log_size;
  long stop_timeout_ms;
  pid_t init; /* 0 once it has ended (or never started) */
  long long kill_at; /* when a stop of the launcher escalates to SIGKILL; 0: not stopping */
  struct stream out, err;
  int status_fd; /* read end of the pipe the command holds until its exec (see start_one); -1 once "started" is told */
  char *spec; /* its start fields as received: a restart starts it from them again */
  size_t spec_len;
  struct policy *policy; /* its restart policy once detached (see "restart policies" below); NULL: none */
  int answer_fd; /* a restart requested on the control socket: started again at its exit, then answered here; -1: none */
};

/** A mount made in the service's mount namespace only. */
struct mount_spec {
  char *kind, *source, *target, *options;
};

/** Who the service runs as: root when !set. */
struct user_spec {
  int set;
  uid_t uid;
  gid_t gid;
  size_t group_count;
  gid_t groups[64];
};

/** What an init needs until it execs; points into the control record, freed once the batch is cloned. */
struct launch {
  struct service *service;
  char *netns, *hostname, *hosts, *cwd;
  char **argv, **envp, **hidden, **cgroups;
  uint64_t caps;
  struct user_spec user;
  int read_only;
  long mount_count;
  struct mount_spec *mounts;
  int *cgroup_fds; /* opened by the launcher in the host's mounts; -1 after a failed open */
  char *cgroup_failed; /* the first that could not be opened: the service is not started */
  int cgroup_errno;
  int netns_fd, netns_errno;
  int out_w, err_w;
  int status_w; /* the init's end of the service's status pipe */
};

static struct service *services;
static long service_count, service_capacity;
static int attached = 1;

/** Reports go through stdio (one flush per loop turn); after detach nobody reads them. */
static void report(const char *format, ...) {
  if (!attached) return;
  va_list args;
  va_start(args, format);
  vfprintf(stdout, format, args);
  va_end(args);
}

// ---- log and event files ---------------------------------------------------------------------

/** Renames a full file to <path>.1 and opens a fresh one; -1 if that is not possible. */
static int rotate(const char *path, int fd) {
  char old[4096];
  close(fd);
  if (snprintf(old, sizeof old, "%s.1", path) >= (int)sizeof old || rename(path, old) < 0) return -1;
  return open(path, OPEN_FLAGS, 0600);
}

/** Appends a line to the service's log; a full disk or a removed folder drops it, never blocks. */
static void log_line(struct service *s, const char *line, size_t len) {
  if (s->log_fd < 0) return;
  if (s->log_size + (off_t)len > LOG_LIMIT && s->log_size > 0) {
    s->log_fd = rotate(s->log_path, s->log_fd);
    s->log_size = 0;
    if (s->log_fd < 0) return;
  }
  ssize_t n = write(s->log_fd, line, len);
  if (n > 0) s->log_size += n;
}

static void json_string(char *out, size_t size, const char *text) {
  size_t at = 0;
  for (; *text && at + 7 < size; text++) {
    unsigned char c = (unsigned char)*text;
    if (c == '"' || c == '\\') at += snprintf(out + at, size - at, "\\%c", c);
    else if (c < 0x20) at += snprintf(out + at, size - at, "\\u%04x", c);
    else out[at++] = c;
  }
  out[at] = '\0';
}

/** After detach: the service's end, as one JSON line of the instance's event log. */
static void append_exit_event(struct service *s, int code, int sig) {
  char at[32], name[256], exit_code[16] = "null", signal_name[32] = "null", line[512];
  struct timespec t;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &t);
  gmtime_r(&t.tv_sec, &tm);
  size_t n = strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(at + n, sizeof at - n, ".%03ldZ", t.tv_nsec / 1000000);
  json_string(name, sizeof name, s->name);
  if (code >= 0) snprintf(exit_code, sizeof exit_code, "%d", code);
  if (sig >= 0) snprintf(signal_name, sizeof signal_name, "\"SIG%s\"", sigabbrev_np(sig) ? sigabbrev_np(sig) : "UNKNOWN");
  int len = snprintf(line, sizeof line, "{\"at\":\"%s\",\"kind\":\"service.exit\",\"service\":\"%s\",\"exitCode\":%s,\"signal\":%s}\n", at, name, exit_code, signal_name);
  // Opened for each event (they are rare): a rotation by another writer is followed, not fought.
  int fd = open(s->events_path, OPEN_FLAGS, 0600);
  struct stat st;
  if (fd < 0) return;
  if (fstat(fd, &st) == 0 && st.st_size + len > EVENTS_LIMIT && st.st_size > 0) fd = rotate(s->events_path, fd);
  if (fd < 0) return;
  if (write(fd, line, len) < 0) {
    // a full disk: the event is lost, the services are not
  }
  close(fd);
}

// ---- output ----------------------------------------------------------------------------------

/** One line of a service's output (ending in '\n'): into its log and, while attached, to the owner. */
static void on_line(long index, int is_err, char *line, size_t len) {
  struct service *s = &services[index];
  log_line(s, line, len);
  if (attached) {
    report("%s %ld ", is_err ? "err" : "out", index);
    fwrite(line, 1, len, stdout);
  }
}

/** Reads what a stream has: whole lines go on, the rest waits for more (or for the end). */
static void read_stream(long index, int is_err) {
  struct stream *st = is_err ? &services[index].err : &services[index].out;
  if (!st->line && !(st->line = malloc(MAX_LINE + 1))) die("malloc");
  ssize_t n = read(st->fd, st->line + st->len, MAX_LINE - st->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    if (st->len) {
      st->line[st->len] = '\n';
      on_line(index, is_err, st->line, st->len + 1);
    }
    close(st->fd);
    free(st->line);
    *st = (struct stream){.fd = -1};
    return;
  }
  size_t start = 0, end = st->len + n;
  for (size_t i = st->len; i < end; i++) {
    if (st->line[i] != '\n') continue;
    on_line(index, is_err, st->line + start, i + 1 - start);
    start = i + 1;
  }
  st->len = end - start;
  memmove(st->line, st->line + start, st->len);
  if (st->len == MAX_LINE) {
    st->line[MAX_LINE] = '\n';
    on_line(index, is_err, st->line, MAX_LINE + 1);
    st->len = 0;
  }
}

// ---- the init and the command ----------------------------------------------------------------

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
static void exec_command(struct launch *l) {
  on_forwarded(SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); // a stop that came before this point is delivered now
  environ = l->envp;
  execvp(l->argv[0], l->argv);
  int code = errno == ENOENT ? 127 : 126;
  dprintf(2, "warren: cannot run %s: %s\n", l->argv[0], strerror(errno));
  _exit(code);
}

/** Makes a mount read-only where it is (bind onto itself, then remount). */
static void read_only(const char *path) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    if (errno == ENOENT) return; // a kernel without it
    die(path);
  }
  if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die(path);
}

/**
 * The service's own /proc, /sys and /dev: a root service can neither write kernel settings
 * (/proc/sys: core_pattern would run a program on the host), nor reach the host's cgroups or
 * devices (a raw disk).
 */
static void mount_system(void) {
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount("proc", "/proc", "proc", flags, NULL) < 0) die("mount /proc");
  read_only("/proc/sys");
  read_only("/proc/sysrq-trigger");
  if (mount("sysfs", "/sys", "sysfs", flags | MS_RDONLY, NULL) < 0) die("mount /sys");
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0) die("mount /dev");
  static const struct { const char *name; unsigned major, minor; } devices[] = {
      {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
    char path[32];
    snprintf(path, sizeof path, "/dev/%s", devices[i].name);
    if (mknod(path, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0 || chmod(path, 0666) < 0) die(path);
  }
  static const char *links[][2] = {{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    if (symlink(links[i][0], links[i][1]) < 0) die(links[i][1]);
  }
  if (mkdir("/dev/shm", 01777) < 0 || chmod("/dev/shm", 01777) < 0) die("mkdir /dev/shm");
  if (mount("shm", "/dev/shm", "tmpfs", flags, "mode=1777") < 0) die("mount /dev/shm");
  if (mkdir("/dev/pts", 0755) < 0) die("mkdir /dev/pts");
  if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0) die("mount /dev/pts");
  if (symlink("pts/ptmx", "/dev/ptmx") < 0) die("/dev/ptmx");
  if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0) die("remount /dev");
}

/**
 * Covers each path with an empty read-only mount: the first folder with a tmpfs, every other
 * folder with a bind of that one (a bind adds no file system for the namespace's end to take
 * down), anything else with /dev/null.
 */
static void hide(char **paths) {
  const unsigned long hidden = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  // The first tmpfs by descriptor: a later path that covers where it is mounted cannot hide it.
  char empty[64] = "";
  int empty_fd = -1;
  for (; *paths; paths++) {
    struct stat st;
    if (stat(*paths, &st) < 0) {
      if (errno == ENOENT) continue; // nothing to hide
      die(*paths);
    }
    int bad = !S_ISDIR(st.st_mode) ? mount("/dev/null", *paths, NULL, MS_BIND, NULL)
              : *empty            ? mount(empty, *paths, NULL, MS_BIND, NULL) || mount(NULL, *paths, NULL, MS_BIND | MS_REMOUNT | hidden, NULL)
                                  : mount("tmpfs", *paths, "tmpfs", hidden, "mode=000,size=4k");
    if (bad) die(*paths);
    if (S_ISDIR(st.st_mode) && empty_fd < 0) {
      if ((empty_fd = open(*paths, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) die(*paths);
      snprintf(empty, sizeof empty, "/proc/self/fd/%d", empty_fd);
    }
  }
  if (empty_fd >= 0) close(empty_fd);
}

/**
 * Keeps only the capabilities in `keep` (bit N: capability N): out of the bounding set, so no exec
 * gets them back, and out of the effective, permitted, inheritable and ambient sets; then
 * no_new_privs, so no setuid or file-capability binary raises them again. With a user, its groups,
 * gid and uid are set in between (that needs CAP_SETGID/SETUID, which the capset takes away): a
 * non-root uid ends with no capability at all (the kernel clears them on setuid, capset clears the
 * inheritable set), as a non-root process in a Docker container does; the bounding set still
 * limits what it could ever regain.
 */
static void drop_capabilities(uint64_t keep, const struct user_spec *user) {
  // What warren itself lacks (this machine's bounding set) a service cannot be given either.
  uint64_t held = 0;
  for (int cap = 0, has; cap < 64 && (has = prctl(PR_CAPBSET_READ, cap)) >= 0; cap++) {
    if (has) held |= 1ULL << cap;
    if (has && !(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap) < 0) die("drop a capability from the bounding set");
  }
  keep &= held;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die("clear ambient capabilities");
  if (user->set) {
    if (setgroups(user->group_count, user->groups) < 0) die("setgroups");
    if (setresgid(user->gid, user->gid, user->gid) < 0) die("setgid");
    if (setresuid(user->uid, user->uid, user->uid) < 0) die("setuid");
    if (user->uid != 0) keep = 0;
  }
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
  uint32_t low = (uint32_t)keep, high = (uint32_t)(keep >> 32);
  struct __user_cap_data_struct data[2] = {{low, low, low}, {high, high, high}};
  if (syscall(SYS_capset, &header, data) < 0) die("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs");
}

static unsigned long bind_flags(const char *options) {
  return MS_NOSUID | MS_NODEV | (strcmp(options, "ro") == 0 ? MS_RDONLY : 0);
}

/**
 * The service's own mounts, on targets that exist (the plan created missing ones). A volume's
 * source is opened without following a symlink and bound from its descriptor, so what is mounted
 * is the folder the launcher checked, never where a link would point.
 */
static void mount_own(struct launch *l) {
  for (long i = 0; i < l->mount_count; i++) {
    struct mount_spec *m = &l->mounts[i];
    if (strcmp(m->kind, "tmpfs") == 0) {
      char data[256];
      snprintf(data, sizeof data, "mode=0755,uid=%u,gid=%u%s%s", l->user.set ? l->user.uid : 0, l->user.set ? l->user.gid : 0, *m->options ? "," : "", m->options);
      if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) die(m->target);
      continue;
    }
    char source[64];
    const char *from = m->source;
    int fd = -1;
    if (strcmp(m->kind, "volume") == 0) {
      fd = open(m->source, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) die(m->source);
      snprintf(source, sizeof source, "/proc/self/fd/%d", fd);
      from = source;
    }
    if (mount(from, m->target, NULL, MS_BIND | MS_REC, NULL) < 0) die(m->target);
    if (fd >= 0) close(fd);
    if (mount(NULL, m->target, NULL, MS_BIND | MS_REMOUNT | bind_flags(m->options), NULL) < 0) die(m->target);
  }
}

/** Whether `path` is one of the service's mount targets or lies below one. */
static int is_own_mount(struct launch *l, const char *path) {
  for (long i = 0; i < l->mount_count; i++) {
    size_t n = strlen(l->mounts[i].target);
    if (strncmp(path, l->mounts[i].target, n) == 0 && (path[n] == '\0' || path[n] == '/')) return 1;
  }
  return 0;
}

/** A mountinfo field with its octal escapes (\040 for a space) decoded, in place. */
static char *unescape(char *field) {
  char *out = field;
  for (char *in = field; *in; out++) {
    if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] && in[3]) {
      *out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
      in += 4;
    } else *out = *in++;
  }
  *out = '\0';
  return field;
}

/**
 * `readonly`: every mount of the service's view read-only except its own, keeping each mount's
 * nosuid/nodev/noexec. Its /proc, /sys and /dev are made afterwards, as for every service.
 */
static void read_only_root(struct launch *l) {
  FILE *info = fopen("/proc/self/mountinfo", "re");
  if (!info) die("/proc/self/mountinfo");
  char line[8192];
  while (fgets(line, sizeof line, info)) {
    char *fields[6], *save = NULL, *at = line;
    int n = 0;
    for (char *f; n < 6 && (f = strtok_r(at, " ", &save)); at = NULL) fields[n++] = f;
    if (n < 6) continue;
    char *point = unescape(fields[4]);
    if (is_own_mount(l, point)) continue;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    if (strstr(fields[5], "nosuid")) flags |= MS_NOSUID;
    if (strstr(fields[5], "nodev")) flags |= MS_NODEV;
    if (strstr(fields[5], "noexec")) flags |= MS_NOEXEC;
    // A mount covered by a later one cannot be reached by its path (EINVAL there): nothing to do.
    if (mount(NULL, point, NULL, flags, NULL) < 0 && errno != EINVAL && errno != ENOENT && errno != EACCES) die(point);
  }
  fclose(info);
}

/** The command, once forked: where the init passes a stop signal. */
static pid_t command_pid;

static void forward(int sig) {
  if (command_pid > 0) kill(command_pid, sig);
}

/** Open for as long as the launcher lives: readable once it has exited. */
static int launcher_pidfd;

/**
 * Joins each cgroup (opened by the launcher) by writing 0: that moves the writer itself, whatever
 * its pid here. In a cgroup v1 hierarchy the file is `tasks` (see open_cgroup): moving the calling
 * thread (the init has no other) takes no machine-wide lock, where moving a process by
 * cgroup.procs waits for an RCU grace period first, 5 to 20 ms per burst of starts.
 */
static void join_cgroups(struct launch *l) {
  for (long i = 0; l->cgroups[i]; i++) {
    if (l->cgroup_fds[i] < 0 || write(l->cgroup_fds[i], "0", 1) != 1) die(l->cgroups[i]);
  }
}

/**
 * PID 1 of the service's new PID, mount and UTS namespaces (cloned so by the launcher): enters
 * the network namespace, names itself, mounts the hosts file, its /proc, /sys and /dev, hides the
 * state, drops capabilities, runs the command and ends as it ends; the kernel then kills
 * everything left in the namespace.
 */
static int run_init(void *arg) {
  struct launch *l = arg;
  setpgid(0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) _exit(EXIT_LAUNCH);
  // The launcher may have died before prctl, and getppid() is 0 in a new PID namespace.
  struct pollfd launcher = {.fd = launcher_pidfd, .events = POLLIN};
  if (poll(&launcher, 1, 0) != 0) _exit(EXIT_LAUNCH);
  if (dup2(l->out_w, 1) < 0 || dup2(l->err_w, 2) < 0) _exit(EXIT_LAUNCH);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0) die("open /dev/null");
  if (l->netns_fd < 0) {
    errno = l->netns_errno;
    die(l->netns);
  }
  if (setns(l->netns_fd, CLONE_NEWNET) < 0) die("setns");
  // First: a service that cannot be limited does not run at all.
  join_cgroups(l);
  // Kept: the status pipe, closed by the command's exec (or by the end of both).
  if (dup3(l->status_w, 3, O_CLOEXEC) < 0) die("dup3");
  close_range(4, ~0U, 0);
  if (sethostname(l->hostname, strlen(l->hostname)) < 0) die("sethostname");
  // The hosts file and the volumes live in the state dir: bound before the state dir is hidden.
  if (mount(l->hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0) die("bind /etc/hosts");
  mount_own(l);
  if (l->read_only) read_only_root(l);
  mount_system();
  hide(l->hidden);
  // As root: a service user that may not enter its folder still starts there.
  if (chdir(l->cwd) < 0) {
    dprintf(2, "warren: cannot enter %s: %s\n", l->cwd, strerror(errno));
    _exit(EXIT_LAUNCH);
  }
  drop_capabilities(l->caps, &l->user);
  // The forwarded signals are still blocked (from the launcher): a stop that came early waits here.
  on_forwarded(forward);
  command_pid = fork();
  if (command_pid < 0) die("fork");
  if (command_pid == 0) exec_command(l);
  // Only the command holds the status pipe now: the launcher sees its end once the command has exec'ed.
  close(3);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
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

/** The host's mount namespace, where /run/netns names every namespace. */
static int host_mnt_fd;

/**
 * A fresh private copy of the host's mounts for the inits to copy in turn: nothing propagates to
 * the host, and without /run/netns, whose one mount per named namespace would make every copy
 * cost O(namespaces) and keep every namespace of the machine alive for as long as a service runs.
 * Returns to the host's first: the namespaces of this batch are opened there.
 */
static void enter_host_mounts(void) {
  if (setns(host_mnt_fd, CLONE_NEWNS) < 0) die("setns to the host's mount namespace");
}

static void make_service_mounts(void) {
  if (unshare(CLONE_NEWNS) < 0) die("unshare");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
  if (umount2("/run/netns", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) die("detach /run/netns");
}

/** "-" (root, as launched) or "UID:GID:GROUP,GROUP...". */
static void parse_user(const char *field, struct user_spec *user) {
  *user = (struct user_spec){0};
  if (strcmp(field, "-") == 0) return;
  char *end;
  unsigned long uid = strtoul(field, &end, 10);
  if (end == field || *end != ':' || uid > 0xfffffffeUL) fail_spec("bad user");
  const char *at = end + 1;
  unsigned long gid = strtoul(at, &end, 10);
  if (end == at || *end != ':' || gid > 0xfffffffeUL) fail_spec("bad user");
  user->set = 1;
  user->uid = (uid_t)uid;
  user->gid = (gid_t)gid;
  for (at = end + 1; *at;) {
    unsigned long group = strtoul(at, &end, 10);
    if (end == at || (*end != ',' && *end != '\0') || group > 0xfffffffeUL) fail_spec("bad user groups");
    if (user->group_count == sizeof user->groups / sizeof *user->groups) fail_spec("too many groups");
    user->groups[user->group_count++] = (gid_t)group;
    at = *end ? end + 1 : end;
  }
}

static void parse_mounts(struct launch *l) {
  l->mount_count = next_number(10, 1000);
  l->mounts = calloc(l->mount_count ? l->mount_count : 1, sizeof *l->mounts);
  if (!l->mounts) die("calloc");
  for (long i = 0; i < l->mount_count; i++) {
    struct mount_spec *m = &l->mounts[i];
    m->kind = next_field();
    m->source = next_field();
    m->target = next_field();
    m->options = next_field();
    int known = strcmp(m->kind, "bind") == 0 || strcmp(m->kind, "volume") == 0 || strcmp(m->kind, "tmpfs") == 0;
    if (!known || m->target[0] != '/' || strchr(m->options, ',') != NULL) fail_spec("bad mount");
  }
}

static struct service *new_service(void) {
  if (service_count == service_capacity) {
    service_capacity = service_capacity ? service_capacity * 2 : 8;
    if (!(services = realloc(services, service_capacity * sizeof *services))) die("realloc");
  }
  struct service *s = &services[service_count++];
  *s = (struct service){.log_fd = -1, .out.fd = -1, .err.fd = -1, .status_fd = -1, .answer_fd = -1};
  return s;
}

static char *copy(const char *text) {
  char *c = strdup(text);
  if (!c) die("strdup");
  return c;
}

/** Closes each descriptor that is open (>= 0) and marks it closed. */
static void close_fds(int *fds, int count) {
  for (int i = 0; i < count; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

/**
 * Opens the service's log and its pipes and clones its init; a failure is reported. "started" is
 * told later, once the status pipe is at its end: the command has exec'ed (or the init ended).
 */
static void start_one(struct launch *l, long index) {
  struct service *s = &services[index];
  struct stat st;
  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  const char *what = "open its log";  /* what failed, for the report */
  if (l->cgroup_failed) {
    report("failed %ld cannot join cgroup %s: %s\n", index, l->cgroup_failed, strerror(l->cgroup_errno));
    return;
  }
  s->log_fd = open(s->log_path, OPEN_FLAGS, 0600);
  if (s->log_fd < 0 || fstat(s->log_fd, &st) < 0) goto failed;
  s->log_size = st.st_size;
  what = "make its pipes";
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) goto failed;
  l->out_w = out[1];
  l->err_w = err[1];
  l->status_w = status[1];
  what = "clone its init";
  pid_t pid = clone(run_init, init_stack + sizeof init_stack, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | SIGCHLD, l);
  if (pid < 0) goto failed;
  close(out[1]);
  close(err[1]);
  close(status[1]);
  setpgid(pid, pid);
  s->init = pid;
  s->out.fd = out[0];
  s->err.fd = err[0];
  s->status_fd = status[0];
  return;
failed:
  report("failed %ld cannot %s (log %s): %s\n", index, what, s->log_path, strerror(errno));
  close_fds(out, 2);
  close_fds(err, 2);
  close_fds(status, 2);
  if (s->log_fd >= 0) close(s->log_fd);
  s->log_fd = -1;
}

/** The service has exec'ed its command (or its init has ended): "started", once. */
static void tell_started(long index) {
  struct service *s = &services[index];
  if (s->status_fd < 0) return;
  close(s->status_fd);
  s->status_fd = -1;
  report("started %ld %d\n", index, s->init);
}

/** Its status pipe is readable: only its end means something (nothing is ever written to it). */
static void read_status(long index) {
  char ignored[64];
  ssize_t n = read(services[index].status_fd, ignored, sizeof ignored);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) tell_started(index);
}

/**
 * What an init writes 0 to, to join the cgroup whose cgroup.procs is `procs`: in a cgroup v1
 * hierarchy its `tasks` file beside it (see join_cgroups), else cgroup.procs itself (cgroup v2 has
 * no `tasks`). Never through a symbolic link.
 */
static int open_cgroup(const char *procs) {
  static const char suffix[] = "/cgroup.procs";
  size_t n = strlen(procs), dir = n >= sizeof suffix - 1 ? n - (sizeof suffix - 1) : 0;
  char tasks[4096];
  if (n >= sizeof suffix - 1 && strcmp(procs + dir, suffix) == 0 && dir + sizeof "/tasks" <= sizeof tasks) {
    memcpy(tasks, procs, dir);
    memcpy(tasks + dir, "/tasks", sizeof "/tasks");
    int fd = open(tasks, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) return fd;
  }
  return open(procs, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
}

/** A "start" record: parse every service, then clone an init for each. */
static void start_batch(void) {
  long count = next_number(10, 100000), first = service_count;
  struct launch *launches = calloc(count ? count : 1, sizeof *launches);
  if (!launches) die("calloc");
  for (long i = 0; i < count; i++) {
    struct launch *l = &launches[i];
    struct service *s = new_service();
    char *spec_start = cursor;
    s->name = copy(next_field());
    l->netns = next_field();
    l->hostname = next_field();
    l->hosts = next_field();
    l->cwd = next_field();
    s->log_path = copy(next_field());
    s->events_path = copy(next_field());
    s->stop_timeout_ms = next_number(10, 0x7fffffff);
    l->caps = strtoull(next_field(), NULL, 16);
    parse_user(next_field(), &l->user);
    l->read_only = next_number(10, 1) == 1;
    parse_mounts(l);
    l->cgroups = next_list();
    l->hidden = next_list();
    l->argv = next_list();
    l->envp = next_list();
    if (!l->argv[0]) fail_spec("a service has no command");
    s->spec_len = cursor - spec_start;
    if (!(s->spec = malloc(s->spec_len))) die("malloc");
    memcpy(s->spec, spec_start, s->spec_len);
  }
  enter_host_mounts();
  for (long i = 0; i < count; i++) {
    struct launch *l = &launches[i];
    l->netns_fd = open(l->netns, O_RDONLY | O_CLOEXEC);
    l->netns_errno = errno;
    long n = 0;
    while (l->cgroups[n]) n++;
    if (!(l->cgroup_fds = calloc(n + 1, sizeof *l->cgroup_fds))) die("calloc");
    for (long j = 0; j < n; j++) {
      l->cgroup_fds[j] = open_cgroup(l->cgroups[j]);
      if (l->cgroup_fds[j] < 0 && !l->cgroup_failed) l->cgroup_failed = l->cgroups[j], l->cgroup_errno = errno;
    }
  }
  make_service_mounts();
  for (long i = 0; i < count; i++) start_one(&launches[i], first + i);
  for (long i = 0; i < count; i++) {
    if (launches[i].netns_fd >= 0) close(launches[i].netns_fd);
    for (long j = 0; launches[i].cgroups[j]; j++)
      if (launches[i].cgroup_fds[j] >= 0) close(launches[i].cgroup_fds[j]);
    free(launches[i].cgroup_fds);
    free(launches[i].cgroups);
    free(launches[i].mounts);
    free(launches[i].hidden);
    free(launches[i].argv);
    free(launches[i].envp);
  }
  free(launches);
}

/** The owner leaves: from now on this process owns the instance and nobody reads its reports. */
static void detach(void) {
  if (prctl(PR_SET_PDEATHSIG, 0) < 0) die("prctl");
  report("detached\n");
  fflush(stdout);
  attached = 0;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) die("/dev/null");
  close(null);
}

// ---- restart policies once detached ------------------------------------------------------------
// While a Node process owns the instance it restarts services itself; once detached this process
// does, by each service's policy: the same fields started again (same namespaces, address, log),
// with exponential backoff and a bound, each new process journaled as the service's start result
// and the restart told in the event log.

struct policy {
  int always;           /* 1: after any exit; 0: on-failure */
  long max_restarts;    /* -1: no bound */
  long initial_ms, max_ms;
  char *journal;
  long in_a_row;        /* restarts in a row (since it last stayed up BACKOFF_RESET_MS) */
  long total;
  long long started_at; /* when its current process started */
  long long restart_at; /* when the next restart is due; 0: none pending */
};

#define BACKOFF_RESET_MS 10000

/** Set by stop_all: the launcher is stopping every service, nothing starts again. */
static int shutting_down;

/** The instance's journal and the control socket a detached owner answers restart requests on. */
static char *control_journal;
static int control_fd = -1;

static void relaunch(long index);

/** Answers a restart request and closes its connection (-1: nobody asked). */
static void answer(int fd, const char *text) {
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) {
    // the asker left
  }
  close(fd);
}

/** "control" SOCKET_PATH JOURNAL: listen (0600) for restart requests once detached. */
static void set_control(void) {
  char *path = next_field();
  control_journal = copy(next_field());
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (path[0] != '/' || strlen(path) >= sizeof addr.sun_path || control_journal[0] != '/') fail_spec("bad control socket");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct stat st;
  // A socket left by an owner that died is replaced; anything else there is not ours to remove.
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
  mode_t old = umask(0177);
  int bad = fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 8) < 0;
  umask(old);
  if (bad) {
    if (fd >= 0) close(fd);
    return; // no restart on request, the rest works
  }
  control_fd = fd;
}

/** A request on the control socket: one line `{"op":"restart","service":"NAME"}`, checked strictly. */
static void serve_request(void) {
  int fd = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  char text[4096];
  struct pollfd in = {.fd = fd, .events = POLLIN};
  ssize_t n = poll(&in, 1, 1000) == 1 ? read(fd, text, sizeof text - 1) : -1;
  if (n <= 0) { close(fd); return; }
  text[n] = '\0';
  const char *prefix = "{\"op\":\"restart\",\"service\":\"";
  char name[64];
  size_t len = 0;
  if (strncmp(text, prefix, strlen(prefix)) != 0) { answer(fd, "{\"ok\":false,\"error\":\"unknown request (known: restart)\"}\n"); return; }
  for (const char *c = text + strlen(prefix); *c && *c != '"' && len < sizeof name - 1; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) { answer(fd, "{\"ok\":false,\"error\":\"not a service name\"}\n"); return; }
    name[len++] = *c;
  }
  name[len] = '\0';
  // The service's current slot: the last one of that name.
  long index = -1;
  for (long i = 0; i < service_count; i++) if (strcmp(services[i].name, name) == 0) index = i;
  if (len == 0 || index < 0) { answer(fd, "{\"ok\":false,\"error\":\"no such service\"}\n"); return; }
  struct service *s = &services[index];
  if (s->answer_fd >= 0 || shutting_down) { answer(fd, "{\"ok\":false,\"error\":\"busy: a restart or a stop is under way\"}\n"); return; }
  s->answer_fd = fd;
  if (s->policy) s->policy->restart_at = 0;
  if (s->init > 0) {
    // Stopped as a stop would (SIGTERM to the init, SIGKILL after its timeout); started again at its exit.
    kill(s->init, SIGTERM);
    s->kill_at = now_ms() + (s->stop_timeout_ms > 0 ? s->stop_timeout_ms : 1);
  } else {
    relaunch(index);
  }
}

static void now_iso(char *at, size_t size) {
  struct timespec t;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &t);
  gmtime_r(&t.tv_sec, &tm);
  size_t n = strftime(at, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(at + n, size - n, ".%03ldZ", t.tv_nsec / 1000000);
}

/** One JSON line appended to a file (the event log, rotated like the launcher's exits; the journal, fsync'd). */
static void append_line(const char *path, const char *line, int len, int durable, int rotated) {
  int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | (rotated ? O_CREAT : 0), 0600);
  struct stat st;
  if (fd < 0) return;
  if (rotated && fstat(fd, &st) == 0 && st.st_size + len > EVENTS_LIMIT && st.st_size > 0) fd = rotate(path, fd);
  if (fd < 0) return;
  if (write(fd, line, len) == len && durable) fdatasync(fd);
  close(fd);
}

/** `{"at":...,"kind":KIND,"service":NAME<rest>}` into the service's event log. */
static void append_event(struct service *s, const char *kind, const char *rest) {
  char at[32], name[256], line[1024];
  now_iso(at, sizeof at);
  json_string(name, sizeof name, s->name);
  int len = snprintf(line, sizeof line, "{\"at\":\"%s\",\"kind\":\"%s\",\"service\":\"%s\"%s}\n", at, kind, name, rest);
  if (len > 0 && len < (int)sizeof line) append_line(s->events_path, line, len, 0, 1);
}

/** "policy" INDEX always|on-failure MAX_RESTARTS INITIAL_MS MAX_MS JOURNAL: sent before "detach". */
static void set_policy(void) {
  long index = next_number(10, 0x7fffffff);
  char *mode = next_field();
  long max = strtol(next_field(), NULL, 10), initial = next_number(10, 0x7fffffff), max_ms = next_number(10, 0x7fffffff);
  char *journal = next_field();
  if (index >= service_count || (strcmp(mode, "always") != 0 && strcmp(mode, "on-failure") != 0) || journal[0] != '/') fail_spec("bad policy");
  struct policy *p = calloc(1, sizeof *p);
  if (!p) die("calloc");
  *p = (struct policy){.always = strcmp(mode, "always") == 0, .max_restarts = max < 0 ? -1 : max, .initial_ms = initial, .max_ms = max_ms < initial ? initial : max_ms, .journal = copy(journal), .started_at = now_ms()};
  free(services[index].policy);
  services[index].policy = p;
}

/** After a detached service's end: its policy says whether (and when) it starts again. */
static void schedule_restart(long index, int code, int sig) {
  struct service *s = &services[index];
  struct policy *p = s->policy;
  if (s->answer_fd >= 0) {
    s->kill_at = 0;
    if (shutting_down) {
      answer(s->answer_fd, "{\"ok\":false,\"error\":\"the instance is going down\"}\n");
      s->answer_fd = -1;
      return;
    }
    { relaunch(index); return; }
  }
  if (!p || shutting_down) return;
  if (!p->always && code == 0 && sig < 0) return;
  long long now = now_ms();
  if (now - p->started_at >= BACKOFF_RESET_MS) p->in_a_row = 0;
  char rest[256];
  if (p->max_restarts >= 0 && p->in_a_row >= p->max_restarts) {
    snprintf(rest, sizeof rest, ",\"restarts\":%ld,\"reason\":\"exhausted maxRestarts (%ld) after it exited with code %d\"", p->in_a_row, p->max_restarts, code);
    append_event(s, "service.failed", rest);
    return;
  }
  p->in_a_row++;
  long long delay = p->initial_ms;
  for (long i = 1; i < p->in_a_row && delay < p->max_ms; i++) delay *= 2;
  if (delay > p->max_ms) delay = p->max_ms;
  p->restart_at = now + delay + (delay == 0); /* 0 means none pending */
  snprintf(rest, sizeof rest, ",\"attempt\":%ld,\"delayMs\":%lld", p->in_a_row, delay);
  append_event(s, "service.restarting", rest);
}

/** The start time of a process (field 22 of /proc/PID/stat), as the journal's process records hold it. */
static unsigned long long start_time_of(pid_t pid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  char *at = strrchr(text, ')');
  for (int field = 2; at && field < 22; field++) at = strchr(at + 1, ' ');
  return at ? strtoull(at + 1, NULL, 10) : 0;
}

/** Starts the service at `index` again from its own fields: a one-service batch, a new slot. */
static void relaunch(long index) {
  struct policy *p = services[index].policy;
  int answer_fd = services[index].answer_fd;
  services[index].answer_fd = -1;
  size_t len = services[index].spec_len;
  char *record = malloc(len + 2);
  if (!record) die("malloc");
  memcpy(record, "1", 2);
  memcpy(record + 2, services[index].spec, len);
  char *saved_cursor = cursor, *saved_end = record_end;
  cursor = record;
  record_end = record + len + 2;
  start_batch();
  cursor = saved_cursor;
  record_end = saved_end;
  free(record);
  // The new slot carries the policy on; `services` may have moved.
  services[index].policy = NULL;
  struct service *s = &services[service_count - 1];
  s->policy = p;
  static long requested;
  long total = p ? ++p->total : ++requested;
  const char *journal = p ? p->journal : control_journal;
  char rest[256], line[512];
  if (s->init <= 0) {
    snprintf(rest, sizeof rest, ",\"restarts\":%ld,\"reason\":\"could not be started again\"", p ? p->in_a_row : 0);
    append_event(s, "service.failed", rest);
    answer(answer_fd, "{\"ok\":false,\"error\":\"it could not be started again (see its log)\"}\n");
    return;
  }
  if (p) p->started_at = now_ms();
  int n = answer_fd >= 0 ? snprintf(line, sizeof line, "--- warren: %s restarted (on request, by the detached owner) ---\n", s->name)
                         : snprintf(line, sizeof line, "--- warren: %s restarted (restart policy, restart %ld in a row, by the detached owner) ---\n", s->name, p ? p->in_a_row : 0);
  if (n > 0 && n < (int)sizeof line) log_line(s, line, n);
  // Durable first: another process (status, down, gc) finds the new process in the journal.
  char name[256];
  json_string(name, sizeof name, s->name);
  n = snprintf(line, sizeof line, "{\"t\":\"done\",\"id\":\"service.start:%s\",\"result\":{\"pid\":%d,\"startTime\":%llu}}\n", name, s->init, start_time_of(s->init));
  if (n > 0 && n < (int)sizeof line && journal) append_line(journal, line, n, 1, 0);
  snprintf(rest, sizeof rest, ",\"pid\":%d,\"attempt\":%ld,\"cause\":\"%s\"", s->init, total, answer_fd >= 0 ? "request" : "policy");
  append_event(s, "service.restarted", rest);
  snprintf(line, sizeof line, "{\"ok\":true,\"pid\":%d}\n", s->init);
  answer(answer_fd, line);
}

/** Restarts whose delay is over. */
static void restart_due(void) {
  long long now = now_ms();
  long count = service_count;
  for (long i = 0; i < count && !shutting_down; i++) {
    struct policy *p = services[i].policy;
    if (!p || !p->restart_at || p->restart_at > now || services[i].init > 0) continue;
    p->restart_at = 0;
    relaunch(i);
  }
}

/** poll's timeout: `wait` (the next SIGKILL, or -1), or sooner when a restart is due. */
static int until_restart(int wait) {
  long long now = now_ms(), next = wait;
  for (long i = 0; i < service_count; i++) {
    struct policy *p = services[i].policy;
    if (!p || !p->restart_at || shutting_down) continue;
    long long in = p->restart_at > now ? p->restart_at - now : 0;
    if (next < 0 || in < next) next = in;
  }
  return (int)next;
}

// ---- the control channel ---------------------------------------------------------------------

static char *input;
static size_t input_len, input_cap;

/** Handles every complete record read so far; false once stdin is closed. */
static int read_control(void) {
  if (input_cap - input_len < 4096 && !(input = realloc(input, input_cap = input_cap ? input_cap * 2 : 1 << 16))) die("realloc");
  ssize_t n = read(0, input + input_len, input_cap - input_len);
  if (n < 0 && errno == EINTR) return 1;
  if (n <= 0) return 0;
  input_len += n;
  size_t at = 0;
  while (attached) {
    char *length = input + at, *nul = memchr(length, '\0', input_len - at);
    if (!nul) {
      if (input_len - at > 20) fail_spec("no length");
      break;
    }
    char *end;
    unsigned long size = strtoul(length, &end, 10);
    if (end != nul || size == 0 || size > (1UL << 30)) fail_spec("bad length");
    if (input_len - at - (nul + 1 - length) < size) break;
    cursor = nul + 1;
    record_end = cursor + size;
    if (record_end[-1] != '\0') fail_spec("it must end with a NUL");
    if (strcmp(next_field(), PROTOCOL) != 0) fail_spec("expected " PROTOCOL);
    char *what = next_field();
    if (strcmp(what, "start") == 0) start_batch();
    else if (strcmp(what, "detach") == 0) detach();
    else if (strcmp(what, "policy") == 0) set_policy();
    else if (strcmp(what, "control") == 0) set_control();
    else fail_spec("unknown command");
    at = record_end - input;
  }
  memmove(input, input + at, input_len -= at);
  // A big batch is over: give its memory back.
  if (input_len == 0 && input_cap > (1 << 16)) {
    free(input);
    input = NULL;
    input_cap = 0;
  }
  return 1;
}

// ---- the loop --------------------------------------------------------------------------------

enum { WATCH_OUT, WATCH_ERR, WATCH_STATUS };

static long running(void) {
  long n = 0;
  for (long i = 0; i < service_count; i++) n += services[i].init > 0;
  return n;
}

static int has_open_streams(void) {
  for (long i = 0; i < service_count; i++)
    if (services[i].out.fd >= 0 || services[i].err.fd >= 0) return 1;
  return 0;
}

static void reap(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;
    for (long i = 0; i < service_count; i++) {
      struct service *s = &services[i];
      if (s->init != pid) continue;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1, sig = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
      // Its status pipe is at its end by now (an exit closes files before the parent learns of it).
      tell_started(i);
      s->init = 0;
      if (attached) report("exit %ld %d %d\n", i, code, sig);
      else append_exit_event(s, code, sig);
      if (!attached) schedule_restart(i, code, sig);
    }
  }
}

/** SIGTERM to every init now, SIGKILL to its group after its stop timeout. */
static void stop_all(void) {
  shutting_down = 1;
  long long now = now_ms();
  for (long i = 0; i < service_count; i++) {
    struct service *s = &services[i];
    if (s->init <= 0 || s->kill_at) continue;
    kill(s->init, SIGTERM);
    s->kill_at = now + (s->stop_timeout_ms > 0 ? s->stop_timeout_ms : 1);
  }
}

/** How long poll may wait: until the next SIGKILL is due, or for ever. */
static int escalate(void) {
  long long now = now_ms(), next = -1;
  for (long i = 0; i < service_count; i++) {
    struct service *s = &services[i];
    if (s->init <= 0 || !s->kill_at) continue;
    if (s->kill_at <= now) {
      kill(-s->init, SIGKILL);
      s->kill_at = now + 1000; // again if it is still there a second later
    }
    if (next < 0 || s->kill_at - now < next) next = s->kill_at - now;
  }
  return next < 0 ? -1 : (int)next;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    dprintf(2, "usage: warren-launch OWNER_PID < control\n");
    return 2;
  }
  // If the owner dies, even by SIGKILL, so do we, and with us every init and so every service.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl");
  if (getppid() != atoi(argv[1])) return EXIT_LAUNCH;
  // Blocked from here until each init has forked its command: a stop sent to a service that is
  // still starting waits instead of being lost. The launcher itself reads them from a signalfd.
  on_forwarded(SIG_IGN);
  block_forwarded(SIG_BLOCK);
  sigset_t own;
  sigemptyset(&own);
  sigaddset(&own, SIGCHLD);
  sigaddset(&own, SIGTERM);
  sigaddset(&own, SIGINT);
  sigaddset(&own, SIGHUP);
  sigprocmask(SIG_BLOCK, &own, NULL);
  int signals = signalfd(-1, &own, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) die("signalfd");
  signal(SIGPIPE, SIG_IGN);
  static char out_buffer[1 << 16];
  setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
  launcher_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (launcher_pidfd < 0) die("pidfd_open");
  host_mnt_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (host_mnt_fd < 0) die("open /proc/self/ns/mnt");
  int control_open = 1, stopping = 0;
  struct pollfd *fds = NULL;
  long *owners = NULL; /* per poll entry: the service's index, and what of it (WATCH_*) */
  int *kinds = NULL;
  for (;;) {
    fflush(stdout);
    if (stopping && !running() && !has_open_streams()) return 0;
    if (attached && !control_open && !running() && !has_open_streams()) return 0;
    size_t most = 2 + 3 * service_count;
    if (!(fds = realloc(fds, most * sizeof *fds)) || !(owners = realloc(owners, most * sizeof *owners)) || !(kinds = realloc(kinds, most * sizeof *kinds))) die("realloc");
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = signals, .events = POLLIN};
    if (attached && control_open) fds[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
    if (!attached && control_fd >= 0) fds[n++] = (struct pollfd){.fd = control_fd, .events = POLLIN};
    for (long i = 0; i < service_count; i++) {
      if (services[i].status_fd >= 0) owners[n] = i, kinds[n] = WATCH_STATUS, fds[n++] = (struct pollfd){.fd = services[i].status_fd, .events = POLLIN};
      if (services[i].out.fd >= 0) owners[n] = i, kinds[n] = WATCH_OUT, fds[n++] = (struct pollfd){.fd = services[i].out.fd, .events = POLLIN};
      if (services[i].err.fd >= 0) owners[n] = i, kinds[n] = WATCH_ERR, fds[n++] = (struct pollfd){.fd = services[i].err.fd, .events = POLLIN};
    }
    if (poll(fds, n, until_restart(escalate())) < 0 && errno != EINTR) die("poll");
    // Output first: a service's last lines reach its log before its end is reported.
    for (nfds_t i = 1; i < n; i++) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == 0) control_open = read_control();
      else if (fds[i].fd == control_fd) serve_request();
      else if (kinds[i] == WATCH_STATUS) read_status(owners[i]);
      else read_stream(owners[i], kinds[i] == WATCH_ERR);
    }
    struct signalfd_siginfo info;
    while (read(signals, &info, sizeof info) == sizeof info) {
      if (info.ssi_signo != SIGCHLD) stopping = 1;
    }
    reap();
    if (stopping) stop_all();
    else restart_due();
  }
}
