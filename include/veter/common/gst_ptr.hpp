// RAII ownership for GStreamer and GLib references.
//
// Every reference the project holds lives in one of these types; nothing in
// the logic calls gst_object_unref / g_object_unref / g_free by hand.
// Floating references are sunk in exactly one place: adopt_floating().
#pragma once

#include <gst/gst.h>

#include <memory>
#include <utility>

namespace veter::common {

namespace detail {
struct GstObjectUnref {
  void operator()(gpointer p) const noexcept { gst_object_unref(p); }
};
struct GObjectUnref {
  void operator()(gpointer p) const noexcept { g_object_unref(p); }
};
struct MiniObjectUnref {
  void operator()(gpointer p) const noexcept { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }
};
struct GFree {
  void operator()(gpointer p) const noexcept { g_free(p); }
};
struct GErrorFree {
  void operator()(GError* e) const noexcept { g_error_free(e); }
};
struct GMainLoopUnref {
  void operator()(GMainLoop* l) const noexcept { g_main_loop_unref(l); }
};
struct GBytesUnref {
  void operator()(GBytes* b) const noexcept { g_bytes_unref(b); }
};
struct GHashTableUnref {
  void operator()(GHashTable* h) const noexcept { g_hash_table_unref(h); }
};
struct GStrvFree {
  void operator()(gchar** v) const noexcept { g_strfreev(v); }
};
struct GSourceDestroy {
  void operator()(GSource* s) const noexcept {
    g_source_destroy(s);
    g_source_unref(s);
  }
};
/// Calls a library's own free function (whatever it returns).
template <auto Free>
struct FnFree {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
}  // namespace detail

/// Owning pointer to a GstObject (elements, pads, buses, clocks, rtsp objects...).
template <typename T>
using GstPtr = std::unique_ptr<T, detail::GstObjectUnref>;
/// Owning pointer to a plain GObject.
template <typename T>
using GObjectPtr = std::unique_ptr<T, detail::GObjectUnref>;
/// Owning pointer to a GstMiniObject (caps, buffers, events, messages, samples...).
template <typename T>
using MiniPtr = std::unique_ptr<T, detail::MiniObjectUnref>;

using CapsPtr = MiniPtr<GstCaps>;
using BufferPtr = MiniPtr<GstBuffer>;
using BufferListPtr = MiniPtr<GstBufferList>;
using EventPtr = MiniPtr<GstEvent>;
using MessagePtr = MiniPtr<GstMessage>;
using SamplePtr = MiniPtr<GstSample>;
using ElementPtr = GstPtr<GstElement>;
using PadPtr = GstPtr<GstPad>;
using BusPtr = GstPtr<GstBus>;
using GCharPtr = std::unique_ptr<gchar, detail::GFree>;
using GErrorPtr = std::unique_ptr<GError, detail::GErrorFree>;
using MainLoopPtr = std::unique_ptr<GMainLoop, detail::GMainLoopUnref>;
using GBytesPtr = std::unique_ptr<GBytes, detail::GBytesUnref>;
using GHashTablePtr = std::unique_ptr<GHashTable, detail::GHashTableUnref>;
using GStrvPtr = std::unique_ptr<gchar*, detail::GStrvFree>;
/// An attached GSource we created: destroyed (detached) and unreffed on reset.
using AttachedSourcePtr = std::unique_ptr<GSource, detail::GSourceDestroy>;
/// Owning pointer for a boxed type with its own free function, e.g.
/// FreePtr<GstSDPMessage, gst_sdp_message_free>.
template <typename T, auto Free>
using FreePtr = std::unique_ptr<T, detail::FnFree<Free>>;

/// Take ownership of a newly created GstObject, sinking its floating reference.
/// This is the only place in the project where floating references are sunk.
template <typename T>
[[nodiscard]] GstPtr<T> adopt_floating(T* obj) {
  if (obj != nullptr) {
    gst_object_ref_sink(obj);
  }
  return GstPtr<T>(obj);
}

/// Take ownership of a GObject returned with a full (non-floating) reference.
template <typename T>
[[nodiscard]] GstPtr<T> adopt(T* obj) {
  return GstPtr<T>(obj);
}

/// Add a reference to a GstObject we do not own and return an owning pointer.
template <typename T>
[[nodiscard]] GstPtr<T> ref(T* obj) {
  if (obj != nullptr) {
    gst_object_ref(obj);
  }
  return GstPtr<T>(obj);
}

/// Add a reference to a GstMiniObject we do not own.
template <typename T>
[[nodiscard]] MiniPtr<T> ref_mini(T* obj) {
  if (obj != nullptr) {
    gst_mini_object_ref(GST_MINI_OBJECT_CAST(obj));
  }
  return MiniPtr<T>(obj);
}

/// A new buffer holding a copy of `size` bytes (gst_buffer_new_memdup needs GStreamer 1.20; the
/// publisher and veter_common build with 1.18).
[[nodiscard]] inline BufferPtr buffer_copy_of(const void* data, gsize size) {
  BufferPtr buf(gst_buffer_new_allocate(nullptr, size, nullptr));
  gst_buffer_fill(buf.get(), 0, data, size);
  return buf;
}

/// A GSignal connection that is disconnected when this object dies.
/// Holds a weak pointer so that it is safe if the instance died first.
class SignalConnection {
 public:
  SignalConnection() = default;
  SignalConnection(gpointer instance, gulong id) : instance_(instance), id_(id) {
    if (instance_ != nullptr) {
      g_object_add_weak_pointer(G_OBJECT(instance_), &instance_);
    }
  }
  SignalConnection(const SignalConnection&) = delete;
  SignalConnection& operator=(const SignalConnection&) = delete;
  SignalConnection(SignalConnection&& o) noexcept { *this = std::move(o); }
  SignalConnection& operator=(SignalConnection&& o) noexcept {
    if (this != &o) {
      disconnect();
      instance_ = o.instance_;
      id_ = o.id_;
      if (instance_ != nullptr) {
        g_object_remove_weak_pointer(G_OBJECT(instance_), &o.instance_);
        g_object_add_weak_pointer(G_OBJECT(instance_), &instance_);
      }
      o.instance_ = nullptr;
      o.id_ = 0;
    }
    return *this;
  }
  ~SignalConnection() { disconnect(); }

  void disconnect() noexcept {
    if (instance_ != nullptr) {
      g_object_remove_weak_pointer(G_OBJECT(instance_), &instance_);
      if (id_ != 0) {
        g_signal_handler_disconnect(instance_, id_);
      }
    }
    instance_ = nullptr;
    id_ = 0;
  }

 private:
  gpointer instance_ = nullptr;
  gulong id_ = 0;
};

/// A GSource id (timeout, idle, unix signal, bus watch) removed when this object dies.
class SourceId {
 public:
  SourceId() = default;
  explicit SourceId(guint id) : id_(id) {}
  SourceId(const SourceId&) = delete;
  SourceId& operator=(const SourceId&) = delete;
  SourceId(SourceId&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
  SourceId& operator=(SourceId&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  ~SourceId() { reset(); }

  void reset(guint id = 0) noexcept {
    if (id_ != 0) {
      g_source_remove(id_);
    }
    id_ = id;
  }
  /// Forget the id without removing it (for callbacks that return G_SOURCE_REMOVE).
  void release() noexcept { id_ = 0; }
  [[nodiscard]] guint get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ != 0; }

 private:
  guint id_ = 0;
};

/// A pad probe removed when this object dies (keeps its own pad reference).
class PadProbe {
 public:
  PadProbe() = default;
  PadProbe(GstPad* pad, gulong id) : pad_(ref(pad)), id_(id) {}
  PadProbe(const PadProbe&) = delete;
  PadProbe& operator=(const PadProbe&) = delete;
  PadProbe(PadProbe&& o) noexcept : pad_(std::move(o.pad_)), id_(std::exchange(o.id_, 0)) {}
  PadProbe& operator=(PadProbe&& o) noexcept {
    if (this != &o) {
      reset();
      pad_ = std::move(o.pad_);
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  ~PadProbe() { reset(); }
  void reset() noexcept {
    if (pad_ && id_ != 0) {
      gst_pad_remove_probe(pad_.get(), id_);
    }
    pad_.reset();
    id_ = 0;
  }

 private:
  PadPtr pad_;
  gulong id_ = 0;
};

/// Owning handle for an element's static pad.
[[nodiscard]] inline PadPtr static_pad(GstElement* element, const char* name) {
  return PadPtr(gst_element_get_static_pad(element, name));
}

/// Owning handle for an element looked up by name in a bin.
[[nodiscard]] inline ElementPtr bin_child(GstElement* bin, const char* name) {
  return ElementPtr(gst_bin_get_by_name(GST_BIN(bin), name));
}

}  // namespace veter::common
