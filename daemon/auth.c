/*
 * auth.c -- passwords. Argon2id hashing and verification run on a small
 * pool of worker threads, never on the event loop; a finished job comes
 * back through a pipe that the loop watches. (Failed logins are counted in
 * the database: sql/functions/login.sql.)
 *
 * The workers are shared fairly: each job has an owner (a connection), an
 * owner has at most one job running at a time, and the workers serve the
 * owners with jobs waiting in turn (round robin), so that a connection
 * with many hashes to do delays another's by at most one hash per worker.
 * At most AUTH_MAX_QUEUE jobs wait; past that a job is refused (BUSY).
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <argon2.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "rosterd.h"

/* Argon2id parameters: m = 19 MiB, t = 2, p = 1, 16-byte salt. */
#define AUTH_T_COST	 2
#define AUTH_M_COST	 19456
#define AUTH_PARALLELISM 1
#define AUTH_SALT_LEN	 16
#define AUTH_HASH_LEN	 32
#define AUTH_MAX_QUEUE	 64 /* jobs waiting for a worker, all owners */

enum auth_kind {
	AUTH_HASH,
	AUTH_VERIFY
};

struct auth_job {
	TAILQ_ENTRY(auth_job) entry;
	enum auth_kind kind;
	char	      *password;
	char	      *hash;	 /* verify: the stored hash */
	char	       out[256]; /* hash: the encoded result */
	int	       result;	 /* 0 ok, -1 failed/mismatch */
	auth_cb	       cb;
	void	      *arg;
};
TAILQ_HEAD(auth_jobq, auth_job);

/* The jobs of one owner, while it has some waiting or running. */
struct auth_lane {
	TAILQ_ENTRY(auth_lane) entry;
	uint64_t	 owner;
	struct auth_jobq jobs; /* waiting, in order */
	int		 running;
};
TAILQ_HEAD(auth_laneq, auth_lane);

static pthread_mutex_t	 auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 auth_cond = PTHREAD_COND_INITIALIZER;
static struct auth_laneq auth_lanes = TAILQ_HEAD_INITIALIZER(auth_lanes);
static int		 auth_nwaiting;
static struct auth_jobq	 auth_done = TAILQ_HEAD_INITIALIZER(auth_done);
static pthread_t	*auth_threads;
static int		 auth_nthreads;
static int		 auth_quit;
static int		 auth_pipe[2] = { -1, -1 };
static struct event	*auth_ev;
static char		 auth_dummy[256]; /* for unknown users */

static void
auth_work(struct auth_job *job)
{
	unsigned char salt[AUTH_SALT_LEN];
	const char   *hash;

	switch (job->kind) {
	case AUTH_HASH:
		if (RAND_bytes(salt, sizeof salt) != 1 ||
		    argon2id_hash_encoded(AUTH_T_COST, AUTH_M_COST,
			AUTH_PARALLELISM, job->password, strlen(job->password),
			salt, sizeof salt, AUTH_HASH_LEN, job->out,
			sizeof job->out) != ARGON2_OK)
			job->result = -1;
		else
			job->result = 0;
		break;
	case AUTH_VERIFY:
		/* an unknown user is checked against a dummy hash, at the
		 * same cost, and always fails */
		hash = job->hash != NULL ? job->hash : auth_dummy;
		job->result = argon2id_verify(hash, job->password,
				  strlen(job->password)) == ARGON2_OK &&
			job->hash != NULL ?
		    0 :
		    -1;
		break;
	}
	OPENSSL_cleanse(job->password, strlen(job->password));
}

/* With auth_lock held: the next job to run, taken from the first owner in
 * turn that has one waiting and none running; that owner goes to the back
 * of the turn. NULL when there is none. */
static struct auth_job *
auth_next(struct auth_lane **lanep)
{
	struct auth_lane *lane;
	struct auth_job	 *job;

	TAILQ_FOREACH (lane, &auth_lanes, entry) {
		if (!lane->running && !TAILQ_EMPTY(&lane->jobs))
			break;
	}
	if (lane == NULL)
		return (NULL);
	job = TAILQ_FIRST(&lane->jobs);
	TAILQ_REMOVE(&lane->jobs, job, entry);
	auth_nwaiting--;
	lane->running = 1;
	TAILQ_REMOVE(&auth_lanes, lane, entry);
	TAILQ_INSERT_TAIL(&auth_lanes, lane, entry);
	*lanep = lane;
	return (job);
}

static void *
auth_thread(void *arg)
{
	struct auth_lane *lane;
	struct auth_job	 *job;
	char		  c = 0;

	for (;;) {
		job = NULL;
		pthread_mutex_lock(&auth_lock);
		while (!auth_quit && (job = auth_next(&lane)) == NULL)
			pthread_cond_wait(&auth_cond, &auth_lock);
		if (auth_quit) {
			if (job != NULL) { /* back to its owner, not run */
				TAILQ_INSERT_HEAD(&lane->jobs, job, entry);
				auth_nwaiting++;
				lane->running = 0;
			}
			pthread_mutex_unlock(&auth_lock);
			return (NULL);
		}
		pthread_mutex_unlock(&auth_lock);

		auth_work(job);

		pthread_mutex_lock(&auth_lock);
		lane->running = 0;
		if (TAILQ_EMPTY(&lane->jobs)) {
			TAILQ_REMOVE(&auth_lanes, lane, entry);
			free(lane);
		} else
			pthread_cond_signal(&auth_cond);
		TAILQ_INSERT_TAIL(&auth_done, job, entry);
		pthread_mutex_unlock(&auth_lock);
		while (write(auth_pipe[1], &c, 1) == -1 && errno == EINTR)
			;
	}
}

/* On the loop: hand finished jobs to their callbacks. */
static void
auth_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_jobq q = TAILQ_HEAD_INITIALIZER(q);
	struct auth_job *job;
	char		 buf[256];

	while (read(fd, buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&auth_lock);
	TAILQ_CONCAT(&q, &auth_done, entry);
	pthread_mutex_unlock(&auth_lock);
	while ((job = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, job, entry);
		job->cb(job, job->arg);
	}
}

/* Hash a password on the calling thread (start-up commands only). */
int
auth_hash_now(const char *password, char *out, size_t outlen)
{
	unsigned char salt[AUTH_SALT_LEN];

	if (RAND_bytes(salt, sizeof salt) != 1)
		return (-1);
	if (argon2id_hash_encoded(AUTH_T_COST, AUTH_M_COST, AUTH_PARALLELISM,
		password, strlen(password), salt, sizeof salt, AUTH_HASH_LEN,
		out, outlen) != ARGON2_OK)
		return (-1);
	return (0);
}

int
auth_init(struct event_base *base, int nthreads)
{
	unsigned char rnd[32];
	char	      pw[65];
	int	      i;

	/* the dummy hash of a random password nobody knows */
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return (-1);
	for (i = 0; i < 32; i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	if (auth_hash_now(pw, auth_dummy, sizeof auth_dummy) == -1)
		return (-1);
	if (pipe2(auth_pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		return (-1);
	auth_ev = event_new(base, auth_pipe[0], EV_READ | EV_PERSIST,
	    auth_done_cb, NULL);
	if (auth_ev == NULL || event_add(auth_ev, NULL) == -1)
		return (-1);
	if ((auth_threads = calloc((size_t)nthreads, sizeof *auth_threads)) ==
	    NULL)
		return (-1);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&auth_threads[i], NULL, auth_thread, NULL) !=
		    0)
			return (-1);
		auth_nthreads++;
	}
	return (0);
}

void
auth_stop(void)
{
	struct auth_lane *lane;
	struct auth_job	 *job;
	int		  i;

	pthread_mutex_lock(&auth_lock);
	auth_quit = 1;
	pthread_cond_broadcast(&auth_cond);
	pthread_mutex_unlock(&auth_lock);
	for (i = 0; i < auth_nthreads; i++)
		pthread_join(auth_threads[i], NULL);
	free(auth_threads);
	auth_threads = NULL;
	auth_nthreads = 0;
	/* jobs never run or never delivered still belong to their owners */
	while ((lane = TAILQ_FIRST(&auth_lanes)) != NULL) {
		while ((job = TAILQ_FIRST(&lane->jobs)) != NULL) {
			TAILQ_REMOVE(&lane->jobs, job, entry);
			job->result = -1;
			job->cb(job, job->arg);
		}
		TAILQ_REMOVE(&auth_lanes, lane, entry);
		free(lane);
	}
	auth_nwaiting = 0;
	while ((job = TAILQ_FIRST(&auth_done)) != NULL) {
		TAILQ_REMOVE(&auth_done, job, entry);
		job->cb(job, job->arg);
	}
	if (auth_ev != NULL)
		event_free(auth_ev);
	auth_ev = NULL;
	if (auth_pipe[0] != -1) {
		close(auth_pipe[0]);
		close(auth_pipe[1]);
	}
}

static enum auth_refusal
auth_submit(uint64_t owner, enum auth_kind kind, const char *password,
    const char *hash, auth_cb cb, void *arg)
{
	struct auth_lane *lane;
	struct auth_job	 *job;

	if ((job = calloc(1, sizeof *job)) == NULL)
		return (AUTH_NO_MEMORY);
	job->kind = kind;
	job->cb = cb;
	job->arg = arg;
	if ((job->password = strdup(password)) == NULL ||
	    (hash != NULL && (job->hash = strdup(hash)) == NULL)) {
		auth_job_free(job);
		return (AUTH_NO_MEMORY);
	}
	pthread_mutex_lock(&auth_lock);
	if (auth_nwaiting >= AUTH_MAX_QUEUE) {
		pthread_mutex_unlock(&auth_lock);
		auth_job_free(job);
		return (AUTH_BUSY);
	}
	TAILQ_FOREACH (lane, &auth_lanes, entry) {
		if (lane->owner == owner)
			break;
	}
	if (lane == NULL) {
		if ((lane = calloc(1, sizeof *lane)) == NULL) {
			pthread_mutex_unlock(&auth_lock);
			auth_job_free(job);
			return (AUTH_NO_MEMORY);
		}
		lane->owner = owner;
		TAILQ_INIT(&lane->jobs);
		TAILQ_INSERT_TAIL(&auth_lanes, lane, entry);
	}
	TAILQ_INSERT_TAIL(&lane->jobs, job, entry);
	auth_nwaiting++;
	pthread_cond_signal(&auth_cond);
	pthread_mutex_unlock(&auth_lock);
	return (AUTH_QUEUED);
}

/* Hash a new password off the loop, as one of owner's jobs (owner: the
 * connection's id); the callback gets the job. The callback is not called
 * when the job is refused. */
enum auth_refusal
auth_hash(uint64_t owner, const char *password, auth_cb cb, void *arg)
{
	return (auth_submit(owner, AUTH_HASH, password, NULL, cb, arg));
}

/* Verify a password against a stored hash (NULL: unknown user). */
enum auth_refusal
auth_verify(uint64_t owner, const char *password, const char *hash, auth_cb cb,
    void *arg)
{
	return (auth_submit(owner, AUTH_VERIFY, password, hash, cb, arg));
}

int
auth_result(struct auth_job *job)
{
	return (job->result);
}

const char *
auth_out_hash(struct auth_job *job)
{
	return (job->out);
}

void
auth_job_free(struct auth_job *job)
{
	if (job == NULL)
		return;
	if (job->password != NULL) {
		OPENSSL_cleanse(job->password, strlen(job->password));
		free(job->password);
	}
	free(job->hash);
	OPENSSL_cleanse(job->out, sizeof job->out);
	free(job);
}
