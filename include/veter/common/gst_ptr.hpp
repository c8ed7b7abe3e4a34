// RAII ownership for GStreamer and GLib references.
//
// Every reference the project holds lives in one of these types; nothing in
// the logic calls gst_object_unref / g_object_unref / g_free / g_list_free_full /
// gst_buffer_unmap by hand (scripts/lint.sh checks src/ and include/).
// Floating references are sunk in exactly one place: adopt_floating().
// GstObjects (elements, pads, buses...) live in GstPtr; GObjects that are not
// GstObjects (gst-rtsp-server objects, GIO sockets and addresses, libsoup) in GObjectPtr.
#pragma once

#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
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
struct GstStructureFree {
  void operator()(GstStructure* s) const noexcept { gst_structure_free(s); }
};
struct GUriUnref {
  void operator()(GUri* u) const noexcept { g_uri_unref(u); }
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
/// Owning pointer to a GObject that is not a GstObject (GstRTSPServer, GSocket, SoupServer...).
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
using PromisePtr = MiniPtr<GstPromise>;
using ElementPtr = GstPtr<GstElement>;
using PadPtr = GstPtr<GstPad>;
using BusPtr = GstPtr<GstBus>;
using GCharPtr = std::unique_ptr<gchar, detail::GFree>;
using GErrorPtr = std::unique_ptr<GError, detail::GErrorFree>;
using MainLoopPtr = std::unique_ptr<GMainLoop, detail::GMainLoopUnref>;
using GBytesPtr = std::unique_ptr<GBytes, detail::GBytesUnref>;
using GHashTablePtr = std::unique_ptr<GHashTable, detail::GHashTableUnref>;
using GStrvPtr = std::unique_ptr<gchar*, detail::GStrvFree>;
using GUriPtr = std::unique_ptr<GUri, detail::GUriUnref>;
using StructurePtr = std::unique_ptr<GstStructure, detail::GstStructureFree>;
/// An attached GSource we created: destroyed (detached) and unreffed on reset.
/// Destroying a source that already finished (its callback returned G_SOURCE_REMOVE) is harmless,
/// so unlike a bare source id this owner needs no release() in the callback.
using AttachedSourcePtr = std::unique_ptr<GSource, detail::GSourceDestroy>;
/// Owning pointer for a boxed type with its own free function, e.g.
/// FreePtr<GstSDPMessage, gst_sdp_message_free>.
template <typename T, auto Free>
using FreePtr = std::unique_ptr<T, detail::FnFree<Free>>;

/// Attach a newly created source (we hold its one reference) to `context` (nullptr: the default
/// main context) and own it: resetting the result detaches it.
[[nodiscard]] inline AttachedSourcePtr attach_source(GSource* created, GMainContext* context = nullptr) {
  g_source_attach(created, context);
  return AttachedSourcePtr(created);
}

/// Take ownership of a newly created GstObject, sinking its floating reference.
/// This is the only place in the project where floating references are sunk.
template <typename T>
[[nodiscard]] GstPtr<T> adopt_floating(T* obj) {
  if (obj != nullptr) {
    gst_object_ref_sink(obj);
  }
  return GstPtr<T>(obj);
}

/// Take ownership of a GstObject returned with a full (non-floating) reference. Adopting a
/// floating object would unref a reference nobody owns: that is a programming error, caught here.
template <typename T>
[[nodiscard]] GstPtr<T> adopt(T* obj) {
  g_assert(obj == nullptr || (GST_IS_OBJECT(obj) && !g_object_is_floating(obj)));
  return GstPtr<T>(obj);
}

/// Take ownership of a GObject that is not a GstObject, returned with a full reference.
template <typename T>
[[nodiscard]] GObjectPtr<T> adopt_gobject(T* obj) {
  g_assert(obj == nullptr || (G_IS_OBJECT(obj) && !GST_IS_OBJECT(obj) && !g_object_is_floating(obj)));
  return GObjectPtr<T>(obj);
}

/// Add a reference to a GObject (not a GstObject) we do not own and return an owning pointer.
template <typename T>
[[nodiscard]] GObjectPtr<T> ref_gobject(T* obj) {
  if (obj != nullptr) {
    g_object_ref(obj);
  }
  return GObjectPtr<T>(obj);
}

/// A new element of `factory`; throws naming the factory when its plugin is not installed.
[[nodiscard]] inline GstPtr<GstElement> make_element(const char* factory, const char* name = nullptr) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (e == nullptr) {
    throw std::runtime_error(std::string("GStreamer element '") + factory +
                             "' is missing (install the GStreamer plugins from scripts/deps.sh)");
  }
  return adopt_floating(e);
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

/// A GList of GObjects we own (one reference per element and the list itself), e.g. what
/// gst_rtsp_session_filter() returns with GST_RTSP_FILTER_REF. Iterating yields T*.
template <typename T>
class GListPtr {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T*;
    using difference_type = std::ptrdiff_t;
    using pointer = T**;
    using reference = T*;
    iterator() = default;
    explicit iterator(GList* l) : l_(l) {}
    T* operator*() const { return static_cast<T*>(l_->data); }
    iterator& operator++() {
      l_ = l_->next;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      l_ = l_->next;
      return old;
    }
    bool operator==(const iterator& o) const { return l_ == o.l_; }
    bool operator!=(const iterator& o) const { return l_ != o.l_; }

   private:
    GList* l_ = nullptr;
  };

  GListPtr() = default;
  explicit GListPtr(GList* list) : list_(list) {}
  GListPtr(const GListPtr&) = delete;
  GListPtr& operator=(const GListPtr&) = delete;
  GListPtr(GListPtr&& o) noexcept : list_(std::exchange(o.list_, nullptr)) {}
  GListPtr& operator=(GListPtr&& o) noexcept {
    if (this != &o) {
      reset(std::exchange(o.list_, nullptr));
    }
    return *this;
  }
  ~GListPtr() { reset(); }

  void reset(GList* list = nullptr) noexcept {
    if (list_ != nullptr) {
      g_list_free_full(list_, g_object_unref);
    }
    list_ = list;
  }
  [[nodiscard]] GList* get() const noexcept { return list_; }
  [[nodiscard]] bool empty() const noexcept { return list_ == nullptr; }
  /// The first element (nullptr for an empty list).
  [[nodiscard]] T* front() const noexcept { return list_ != nullptr ? static_cast<T*>(list_->data) : nullptr; }
  [[nodiscard]] iterator begin() const noexcept { return iterator(list_); }
  [[nodiscard]] iterator end() const noexcept { return iterator(); }

 private:
  GList* list_ = nullptr;
};

/// A GstBuffer mapped for as long as this object lives. Check it (operator bool) before use.
class MappedBuffer {
 public:
  MappedBuffer(GstBuffer* buffer, GstMapFlags flags) : buffer_(buffer) {
    if (!gst_buffer_map(buffer_, &info_, flags)) {
      buffer_ = nullptr;
    }
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  ~MappedBuffer() { unmap(); }

  /// Unmap before this object dies (e.g. before the buffer is handed on).
  void unmap() noexcept {
    if (buffer_ != nullptr) {
      gst_buffer_unmap(buffer_, &info_);
      buffer_ = nullptr;
    }
  }
  explicit operator bool() const noexcept { return buffer_ != nullptr; }
  [[nodiscard]] std::uint8_t* data() const noexcept { return buffer_ != nullptr ? info_.data : nullptr; }
  [[nodiscard]] std::size_t size() const noexcept { return buffer_ != nullptr ? info_.size : 0; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {data(), size()}; }

 private:
  GstBuffer* buffer_;
  GstMapInfo info_ = GST_MAP_INFO_INIT;
};

/// A GstBuffer mapped as an RTP packet for as long as this object lives; get() is the
/// GstRTPBuffer for the gst_rtp_buffer_* accessors. Check it (operator bool) before use.
class MappedRtpBuffer {
 public:
  MappedRtpBuffer(GstBuffer* buffer, GstMapFlags flags)
      : mapped_(buffer != nullptr && gst_rtp_buffer_map(buffer, flags, &rtp_) != FALSE) {}
  MappedRtpBuffer(const MappedRtpBuffer&) = delete;
  MappedRtpBuffer& operator=(const MappedRtpBuffer&) = delete;
  ~MappedRtpBuffer() { unmap(); }

  void unmap() noexcept {
    if (mapped_) {
      gst_rtp_buffer_unmap(&rtp_);
      mapped_ = false;
    }
  }
  explicit operator bool() const noexcept { return mapped_; }
  [[nodiscard]] GstRTPBuffer* get() noexcept { return &rtp_; }
  [[nodiscard]] std::span<const std::uint8_t> payload() noexcept {
    if (!mapped_) {
      return {};
    }
    return {static_cast<const std::uint8_t*>(gst_rtp_buffer_get_payload(&rtp_)), gst_rtp_buffer_get_payload_len(&rtp_)};
  }

 private:
  GstRTPBuffer rtp_ = GST_RTP_BUFFER_INIT;
  bool mapped_;
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
