/*
 * aredis: an async Redis connection on the program's libevent loop
 * (hiredis's adapter, AUTH and SELECT from the URL), with the one safe way
 * to end it. hiredis runs every pending callback (with a NULL reply) when a
 * context is freed, and must not have its context freed from inside one of
 * them; so an owner asks for aredis_close(), which frees on the next loop
 * turn, and every reply callback starts with
 *     struct owner *o = aredis_owner(ac); if (!o || !reply) return;
 * (never through privdata: the owner may be gone by then).
 */
#ifndef ARUN_HTTP_AREDIS_H
#define ARUN_HTTP_AREDIS_H

struct event_base;
struct redis_url;
struct redisAsyncContext;
struct aredis;

/* Connects; lost(arg) runs once if the connection fails or drops (not
 * after aredis_close). Returns NULL when it cannot even start (logged). */
struct aredis *aredis_open(struct event_base *base, const struct redis_url *u,
                           void (*lost)(void *arg), void *arg);

/* The hiredis context, for redisAsyncCommand. */
struct redisAsyncContext *aredis_ctx(struct aredis *r);

/* The owner (arg of aredis_open) of the connection ac, or NULL once
 * aredis_close was called or the connection was lost. */
void *aredis_owner(const struct redisAsyncContext *ac);

/* Ends the connection on the next loop turn (pending callbacks then run
 * with a NULL reply) and frees r. NULL is allowed. */
void aredis_close(struct aredis *r);

#endif
