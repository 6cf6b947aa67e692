/* pool.c — background job threads (wfs_pool.h): a FIFO of jobs under one
 * mutex; a thread is started when a job is queued and every running thread
 * is busy, up to the bound. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "wb_log.h"
#include "wfs_pool.h"

struct job {
	void (*fn)(void *arg, int cancel);
	void *arg;
	struct job *next;
};

struct wfs_pool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was queued, or stopping */
	pthread_cond_t idle; /* a job ended */
	struct job *head, *tail;
	unsigned max, started, idle_threads, running;
	int stopping, warned;
	pthread_t *tids;
};

struct wfs_pool *wfs_pool_new(unsigned threads)
{
	struct wfs_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max = threads ? threads : 1;
	p->tids = calloc(p->max, sizeof(*p->tids));
	if (!p->tids) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	return p;
}

static void *worker(void *arg)
{
	struct wfs_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct job *j;

		while (!p->head && !p->stopping) {
			p->idle_threads++;
			pthread_cond_wait(&p->work, &p->mu);
			p->idle_threads--;
		}
		if (!p->head)
			break; /* stopping, nothing left */
		j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg, 0);
		free(j);
		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int wfs_pool_run(struct wfs_pool *p, void (*fn)(void *arg, int cancel),
		 void *arg, int first)
{
	struct job *j = malloc(sizeof(*j));
	int rc = 0;

	if (!j)
		return -ENOMEM;
	*j = (struct job){ fn, arg, NULL };
	pthread_mutex_lock(&p->mu);
	if (!p->idle_threads && p->started < p->max &&
	    pthread_create(&p->tids[p->started], NULL, worker, p) == 0)
		p->started++;
	if (!p->started) {
		rc = -EAGAIN;
		if (!p->warned)
			wb_log(WB_LOG_WARN,
			       "read-ahead: cannot start a "
			       "thread; fetching in the reader's instead");
		p->warned = 1;
		free(j);
	} else {
		if (first) {
			j->next = p->head;
			p->head = j;
			if (!p->tail)
				p->tail = j;
		} else {
			if (p->tail)
				p->tail->next = j;
			else
				p->head = j;
			p->tail = j;
		}
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void wfs_pool_drain(struct wfs_pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->head || p->running)
		pthread_cond_wait(&p->idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void wfs_pool_free(struct wfs_pool *p)
{
	struct job *queued;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	queued = p->head;
	p->head = p->tail = NULL;
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	while (queued) {
		struct job *next = queued->next;

		queued->fn(queued->arg, 1);
		free(queued);
		queued = next;
	}
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->tids[i], NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p->tids);
	free(p);
}
