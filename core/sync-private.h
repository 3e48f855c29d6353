/* sync-private.h — GMutex and GCond as ThreadSanitizer can see them
 *
 * On Linux, GLib's GMutex and GCond are futexes inside libglib, which
 * ThreadSanitizer neither instruments nor intercepts: it sees no order
 * between a thread that unlocks a mutex and the next one that locks it, and
 * reports every access the mutex protects as a race. Under
 * -fsanitize=thread these wrappers say what the lock does
 * (__tsan_release () before letting go of it, __tsan_acquire () after
 * taking it, on the mutex's address); in every other build they are the
 * GLib calls themselves.
 *
 * Threads made with g_thread_new () and joined with g_thread_join () need
 * nothing: those are pthread_create () and pthread_join (), which
 * ThreadSanitizer intercepts.
 */
#pragma once

#include <glib.h>

#if defined(__SANITIZE_THREAD__)
#define CS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CS_TSAN 1
#endif
#endif

#ifdef CS_TSAN

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

static inline void
cs_mutex_lock (GMutex *m)
{
  g_mutex_lock (m);
  __tsan_acquire (m);
}

static inline gboolean
cs_mutex_trylock (GMutex *m)
{
  if (!g_mutex_trylock (m))
    return FALSE;
  __tsan_acquire (m);
  return TRUE;
}

static inline void
cs_mutex_unlock (GMutex *m)
{
  __tsan_release (m);
  g_mutex_unlock (m);
}

static inline void
cs_cond_wait (GCond *c, GMutex *m)
{
  __tsan_release (m);
  g_cond_wait (c, m);
  __tsan_acquire (m);
}

static inline gboolean
cs_cond_wait_until (GCond *c, GMutex *m, gint64 end_time)
{
  __tsan_release (m);
  gboolean signalled = g_cond_wait_until (c, m, end_time);
  __tsan_acquire (m);
  return signalled;
}

#else

#define cs_mutex_lock(m)                 g_mutex_lock (m)
#define cs_mutex_trylock(m)              g_mutex_trylock (m)
#define cs_mutex_unlock(m)               g_mutex_unlock (m)
#define cs_cond_wait(c, m)               g_cond_wait ((c), (m))
#define cs_cond_wait_until(c, m, t)      g_cond_wait_until ((c), (m), (t))

#endif
