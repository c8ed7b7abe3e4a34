// The RTSP side of the relay: gst-rtsp-server on rtsp.listen with one mount
// per path, request gating (not ready -> 404, max_readers -> 503), keyframe
// requests on PLAY, the viewer session registry for the API, and the
// slow-viewer guard for TCP viewers.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/listen_watch.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"
#include "veter/relay/serve/rtsp_security.hpp"

namespace veter::relay {

class Ingest;
class Fanout;
struct ResumeTicket;

/// What the RTSP layer needs to know about one path.
struct MountTarget {
  std::string name;
  int max_readers = 0;
  Ingest* ingest = nullptr;
  Fanout* fanout = nullptr;
  std::chrono::milliseconds viewer_max_delay{200};  // the path's, else rtsp.viewer_max_delay
};

class RtspServer {
 public:
  RtspServer(RtspConfig cfg, std::vector<MountTarget> mounts);
  ~RtspServer();
  RtspServer(const RtspServer&) = delete;
  RtspServer& operator=(const RtspServer&) = delete;

  /// Bind and serve on the default main context; throws std::runtime_error.
  void start();
  /// Close every viewer connection and stop listening.
  void stop();
  /// Main loop, every 100 ms: orphaned TCP sessions, slow-viewer guard, session timeouts.
  void tick();

  [[nodiscard]] std::vector<SessionSnapshot> sessions() const;
  [[nodiscard]] std::vector<std::string> reader_ids(const std::string& path) const;
  [[nodiscard]] int bound_port() const;
  bool kick(const std::string& session_id);
  /// Main loop: end every session on `path` (as kick); returns how many.
  std::size_t end_sessions_of(const std::string& path);

 private:
  struct Session {
    std::string id;
    std::string path;
    std::string remote;
    std::string transport = "udp";
    bool playing = false;
    std::chrono::system_clock::time_point created;
    GstRTSPClient* client = nullptr;  // cleared when the connection closes
    std::uint64_t bytes_base = 0;     // fanout payload bytes when PLAY started
    // Bounded viewer delay (TCP): see check_delay.
    enum class Catchup { live, draining, waiting_keyframe } catchup = Catchup::live;
    bool based = false;
    std::uint64_t wire_base = 0;      // fan-out wire position ...
    std::uint64_t acked_base = 0;     // ... matching this tcpi_bytes_acked of the viewer's socket
    std::uint64_t units_at_pause = 0;
    std::shared_ptr<ResumeTicket> ticket;
    std::uint64_t frames_skipped = 0;
    std::uint64_t catch_ups = 0;
    double delay_ms = 0;
  };

  struct Client {
    GstRTSPClient* client = nullptr;
    std::string remote;
    std::vector<common::SignalConnection> signals;
    std::optional<std::uint64_t> last_acked;
    std::optional<std::chrono::steady_clock::time_point> stalled_since;
    Fanout* joining = nullptr;  // a PLAY between its start and its end (Fanout::begin_join)
  };

  static void on_client_connected(GstRTSPServer* server, GstRTSPClient* client, gpointer self);
  static void on_client_closed(GstRTSPClient* client, gpointer self);
  static GstRTSPStatusCode on_pre_describe(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static GstRTSPStatusCode on_pre_setup(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static GstRTSPStatusCode on_pre_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static void on_setup(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static void on_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static void on_new_session(GstRTSPClient* client, GstRTSPSession* session, gpointer self);
  static void on_session_removed(GstRTSPSessionPool* pool, GstRTSPSession* session, gpointer self);

  // request_gate.cpp
  const MountTarget* find_mount(const GstRTSPContext* ctx) const;
  // viewer_registry.cpp
  int readers_of(const std::string& path) const;
  void note_playing(Session& s);
  void update_playing(const std::string& path);
  void remove_session(const std::string& session_id);
  // slow_viewer_guard.cpp
  void drop_client(GstRTSPClient* client, const std::string& why);
  void check_slow_viewers(std::chrono::steady_clock::time_point now);
  void check_slow(Client& c, std::chrono::steady_clock::time_point now);
  void check_delay(Session& s, GstRTSPClient* client);
  [[nodiscard]] const MountTarget* mount_of(const std::string& path) const;
  [[nodiscard]] common::GObjectPtr<GstRTSPStreamTransport> transport_of(const std::string& session_id) const;

  RtspConfig cfg_;
  std::vector<MountTarget> mounts_;
  common::GObjectPtr<GstRTSPServer> server_;
  common::GObjectPtr<GstRTSPSessionPool> pool_;
  common::GObjectPtr<GSocket> listen_socket_;
  std::unique_ptr<common::ListenWatch> accept_watch_;  // accepts through gst_rtsp_server_io_func
  std::uint64_t connected_ = 0;                        // client-connected emissions
  common::SourceId pool_source_;
  common::SignalConnection client_connected_;
  common::SignalConnection session_removed_;
  std::map<std::string, Session> sessions_;
  std::map<GstRTSPClient*, std::unique_ptr<Client>> clients_;
  std::chrono::steady_clock::time_point last_cleanup_{};
  std::vector<std::string> orphaned_;  // TCP sessions whose connection closed
  std::unique_ptr<RtspSecurity> security_;  // auth, TLS, connection limits
};

}  // namespace veter::relay
