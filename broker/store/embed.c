/* embed.c - spawn and stop the embedded redis-server. */
#define _GNU_SOURCE
#include "embed.h"

#include "config.h"
#include "log.h"
#include "mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct embed {
	pid_t pid;
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int can_connect(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int mkdirs(const char *dir)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int embed_start(struct config *cfg, struct embed **out)
{
	char dir[PATH_MAX];
	if (mkdirs(cfg->data_dir) != 0 || realpath(cfg->data_dir, dir) == NULL) {
		log_error("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	struct embed *e = mem_calloc(1, sizeof(*e));
	if ((size_t)snprintf(e->sock, sizeof(e->sock), "%s/redis.sock", dir) >= sizeof(e->sock)) {
		log_error("data directory path %s is too long for a unix socket; use a shorter "
			  "--data-dir",
			  dir);
		mem_free(e);
		return -1;
	}
	if (can_connect(e->sock)) {
		log_error("%s is in use: another regnotifyd (or redis-server) already runs on "
			  "data directory %s",
			  e->sock, dir);
		mem_free(e);
		return -1;
	}
	unlink(e->sock);
	char logfile[PATH_MAX + 16];
	snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
	const char *fsync = cfg->durability == DURABILITY_ALWAYS ? "always" : "everysec";
	const char *argv[] = { cfg->redis_server_bin,
			       "--port",
			       "0",
			       "--unixsocket",
			       e->sock,
			       "--unixsocketperm",
			       "700",
			       "--dir",
			       dir,
			       "--appendonly",
			       "yes",
			       "--appendfsync",
			       fsync,
			       "--save",
			       "",
			       "--daemonize",
			       "no",
			       "--logfile",
			       logfile,
			       NULL };
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		mem_free(e);
		return -1;
	}
	if (pid == 0) {
		/* Own process group: a terminal's Ctrl-C reaches the broker only,
		 * which drains and then stops Redis. If the broker dies
		 * without that, the kernel sends SIGTERM. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr,
			"regnotifyd: cannot run %s: %s (install redis-server or use "
			"--redis)\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	e->pid = pid;
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			log_error("embedded redis-server exited at start (status %d); see %s",
				  WIFEXITED(st) ? WEXITSTATUS(st) : -1, logfile);
			mem_free(e);
			return -1;
		}
		if (can_connect(e->sock)) {
			cfg->redis_unix = 1;
			snprintf(cfg->redis_path, sizeof(cfg->redis_path), "%s", e->sock);
			cfg->redis_db = 0;
			*out = e;
			log_info(
				"embedded redis-server started (pid %d, unix://%s, appendfsync %s, "
				"data in %s)",
				(int)pid, e->sock, fsync, dir);
			return 0;
		}
		sleep_ms(20);
	}
	log_error("embedded redis-server did not accept connections within 10 s; see %s", logfile);
	embed_stop(e);
	return -1;
}

int embed_reap(struct embed *e, char *why, size_t n)
{
	int st;
	if (e == NULL || e->pid <= 0 || waitpid(e->pid, &st, WNOHANG) != e->pid)
		return 0;
	e->pid = 0;
	if (WIFSIGNALED(st))
		snprintf(why, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(why, n, "exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 1;
}

void embed_stop(struct embed *e)
{
	if (e == NULL)
		return;
	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		int st;
		int i;
		for (i = 0; i < 500; i++) {
			if (waitpid(e->pid, &st, WNOHANG) == e->pid)
				break;
			sleep_ms(20);
		}
		if (i == 500) {
			log_warn("embedded redis-server did not stop in 10 s; killing it");
			kill(e->pid, SIGKILL);
			waitpid(e->pid, &st, 0);
		}
		log_info("embedded redis-server stopped");
	}
	mem_free(e);
}
