// ThreadSanitizer builds only (VETER_TSAN): tells TSan about GLib's GMutex and GCond.
//
// GLib implements GMutex and GCond on Linux with raw futex system calls, which TSan does not
// intercept, so every hand-over GStreamer makes under GST_OBJECT_LOCK (adding a pad probe,
// joining a streaming task, appsink's queue, the bus) looked unsynchronised: memory written
// before the lock was released on one thread and read after it was taken on another was
// reported as a race. Every TSan-built binary links this library first, so the calls that
// GStreamer, its plugins, gst-rtsp-server and the project make to these functions (through the
// PLT) land here; each forwards to GLib and tells TSan that the mutex was released/acquired.
// GLib's own internal uses (GAsyncQueue, GThreadPool, GMainContext) bind inside libglib and stay
// invisible: tests/tsan.supp names those.
//
// GRecMutex and GRWLock are pthread mutexes/rwlocks that TSan does see, but GLib's g_rec_mutex_lock/unlock and
// g_rw_lock_*_unlock end in a tail call, so TSan attributes the pthread call to whoever called GLib. With a library listed as
// called_from_lib in tests/tsan.supp, a stream lock taken from one library and released from
// another then looked unbalanced ("unlock of an unlocked mutex"); the wrappers below call GLib
// from here, so every GRecMutex and GRWLock operation is seen from this (instrumented) library.
#include <dlfcn.h>

#include <cstdint>

extern "C" {
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
}

namespace {

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

// The GLib prototypes, with the opaque types as void* (GLib's headers are not needed here).
void g_mutex_lock(void* mutex);
void g_mutex_unlock(void* mutex);
int g_mutex_trylock(void* mutex);
void g_cond_wait(void* cond, void* mutex);
int g_cond_wait_until(void* cond, void* mutex, std::int64_t end_time);
void g_rec_mutex_lock(void* mutex);
void g_rec_mutex_unlock(void* mutex);
int g_rec_mutex_trylock(void* mutex);
void g_rw_lock_writer_lock(void* lock);
void g_rw_lock_writer_unlock(void* lock);
int g_rw_lock_writer_trylock(void* lock);
void g_rw_lock_reader_lock(void* lock);
void g_rw_lock_reader_unlock(void* lock);
int g_rw_lock_reader_trylock(void* lock);

void g_mutex_lock(void* mutex) {
  static const auto real = next<void (*)(void*)>("g_mutex_lock");
  real(mutex);
  __tsan_acquire(mutex);
}

void g_mutex_unlock(void* mutex) {
  static const auto real = next<void (*)(void*)>("g_mutex_unlock");
  __tsan_release(mutex);
  real(mutex);
}

int g_mutex_trylock(void* mutex) {
  static const auto real = next<int (*)(void*)>("g_mutex_trylock");
  const int locked = real(mutex);
  if (locked != 0) {
    __tsan_acquire(mutex);
  }
  return locked;
}

void g_cond_wait(void* cond, void* mutex) {
  static const auto real = next<void (*)(void*, void*)>("g_cond_wait");
  __tsan_release(mutex);
  real(cond, mutex);
  __tsan_acquire(mutex);
}

int g_cond_wait_until(void* cond, void* mutex, std::int64_t end_time) {
  static const auto real = next<int (*)(void*, void*, std::int64_t)>("g_cond_wait_until");
  __tsan_release(mutex);
  const int signalled = real(cond, mutex, end_time);
  __tsan_acquire(mutex);
  return signalled;
}

// No annotation needed (a pthread mutex): only no tail call, so the pthread call is made from here.
void g_rec_mutex_lock(void* mutex) {
  static const auto real = next<void (*)(void*)>("g_rec_mutex_lock");
  real(mutex);
  asm volatile("" ::: "memory");
}

void g_rec_mutex_unlock(void* mutex) {
  static const auto real = next<void (*)(void*)>("g_rec_mutex_unlock");
  real(mutex);
  asm volatile("" ::: "memory");
}

int g_rec_mutex_trylock(void* mutex) {
  static const auto real = next<int (*)(void*)>("g_rec_mutex_trylock");
  const int locked = real(mutex);
  asm volatile("" ::: "memory");
  return locked;
}

void g_rw_lock_writer_lock(void* lock) {
  static const auto real = next<void (*)(void*)>("g_rw_lock_writer_lock");
  real(lock);
  asm volatile("" ::: "memory");
}

void g_rw_lock_writer_unlock(void* lock) {
  static const auto real = next<void (*)(void*)>("g_rw_lock_writer_unlock");
  real(lock);
  asm volatile("" ::: "memory");
}

int g_rw_lock_writer_trylock(void* lock) {
  static const auto real = next<int (*)(void*)>("g_rw_lock_writer_trylock");
  const int locked = real(lock);
  asm volatile("" ::: "memory");
  return locked;
}

void g_rw_lock_reader_lock(void* lock) {
  static const auto real = next<void (*)(void*)>("g_rw_lock_reader_lock");
  real(lock);
  asm volatile("" ::: "memory");
}

void g_rw_lock_reader_unlock(void* lock) {
  static const auto real = next<void (*)(void*)>("g_rw_lock_reader_unlock");
  real(lock);
  asm volatile("" ::: "memory");
}

int g_rw_lock_reader_trylock(void* lock) {
  static const auto real = next<int (*)(void*)>("g_rw_lock_reader_trylock");
  const int locked = real(lock);
  asm volatile("" ::: "memory");
  return locked;
}

}  // extern "C"
