// camgate live view (plain browser JS, no build step). Two players:
//   MSE    — H.264 copied by the agent into fragmented MP4, appended to a SourceBuffer ('sequence'
//            mode: the stream's timestamps do not matter), chasing the live edge.
//   JSMpeg — MPEG-1 in MPEG-TS decoded on a canvas: H.265 cameras, or browsers without MSE/H.264.
// URL parameters: ?camera=<id>&stream=sub|main&mode=auto|mse|jsmpeg&gl=0
// Test/benchmark hooks: window.camgateLive (firstFrameMs, framesShown, mode, codec, error…).
(function () {
  'use strict';

  var LIVE_EDGE_MAX_LAG = 0.5; // seconds behind the newest buffered frame before jumping ahead
  var KEEP_BEHIND = 3; // seconds of played video kept in the SourceBuffer

  var $ = function (id) {
    return document.getElementById(id);
  };
  var video = $('video');
  var canvas = $('canvas');
  var params = new URLSearchParams(location.search);

  var live = (window.camgateLive = {
    camera: null,
    stream: params.get('stream') === 'main' ? 'main' : 'sub',
    mode: null, // 'mse' | 'jsmpeg' once playing
    codec: null,
    startedAt: null, // performance.now() when the camera was opened
    firstFrameAt: null, // performance.now() of the first frame shown
    firstFrameMs: null, // firstFrameAt - startedAt
    framesShown: 0,
    jumps: 0, // live-edge catch-ups (MSE)
    error: null,
    cameras: [],
  });
  var askedMode = params.get('mode') || 'auto';
  $('stream').value = live.stream;
  $('mode').value = askedMode;

  var current = null; // the running player: { stop() }
  var retryTimer = null;

  function status(text, isError) {
    var el = $('status');
    el.textContent = text;
    el.className = isError ? 'status error' : 'status';
    if (isError) live.error = text;
  }

  function frameShown() {
    live.framesShown++;
    if (live.firstFrameAt === null) {
      live.firstFrameAt = performance.now();
      live.firstFrameMs = Math.round(live.firstFrameAt - live.startedAt);
      status('播放中 Playing · ' + live.mode + (live.codec ? ' · ' + live.codec : '') + ' · 首帧 first frame ' + live.firstFrameMs + ' ms');
    }
  }

  function wsUrl(cameraId, stream, mode) {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + location.host + '/live/' + encodeURIComponent(cameraId) + '?stream=' + stream + '&mode=' + mode;
  }

  function mseCanPlay(codec) {
    return !!(window.MediaSource && MediaSource.isTypeSupported && MediaSource.isTypeSupported('video/mp4; codecs="' + codec + '"'));
  }

  function isH264(codec) {
    return !codec || /^(h\.?264|avc)/i.test(codec);
  }

  function streamInfo(cam, stream) {
    if (!cam) return null;
    for (var i = 0; i < cam.streams.length; i++) if (cam.streams[i].stream === stream) return cam.streams[i];
    return cam.streams[0] || null;
  }

  /** Picks the player: JSMpeg when asked, for non-H.264 streams, or when this browser has no MSE H.264. */
  function choose(cam, stream) {
    if (askedMode === 'jsmpeg') return 'jsmpeg';
    var s = streamInfo(cam, stream);
    if (s && !isH264(s.codec)) return 'jsmpeg';
    if (!mseCanPlay('avc1.42E01E')) return 'jsmpeg';
    return 'mse';
  }

  // ---------------------------------------------------------------- MSE player
  function MsePlayer(cameraId, stream, onFallback, onClosed) {
    var ws = new WebSocket(wsUrl(cameraId, stream, 'mse'));
    ws.binaryType = 'arraybuffer';
    var ms = null;
    var sb = null;
    var queue = [];
    var objectUrl = null;
    var stopped = false;
    var codec = null;

    function setup(newCodec) {
      teardownMedia();
      codec = newCodec;
      live.codec = newCodec;
      ms = new MediaSource();
      objectUrl = URL.createObjectURL(ms);
      video.src = objectUrl;
      ms.addEventListener(
        'sourceopen',
        function () {
          if (stopped) return;
          try {
            sb = ms.addSourceBuffer('video/mp4; codecs="' + codec + '"');
          } catch (e) {
            onFallback('MSE 不支持 ' + codec + ' / not supported: ' + e.message);
            return;
          }
          sb.mode = 'sequence';
          sb.addEventListener('updateend', pump);
          pump();
        },
        { once: true },
      );
    }

    function teardownMedia() {
      sb = null;
      if (ms && ms.readyState === 'open') {
        try {
          ms.endOfStream();
        } catch (e) {
          /* ignore */
        }
      }
      ms = null;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
    }

    function pump() {
      if (!sb || sb.updating || stopped) return;
      var b = sb.buffered;
      if (b.length) {
        var end = b.end(b.length - 1);
        // chase the live edge: a camera view must not drift behind
        if (end - video.currentTime > LIVE_EDGE_MAX_LAG) {
          video.currentTime = Math.max(b.start(b.length - 1), end - 0.1);
          live.jumps++;
        }
        // trim what has been played, so the buffer stays small on a box left open for days
        if (video.currentTime - b.start(0) > KEEP_BEHIND * 2) {
          sb.remove(b.start(0), video.currentTime - KEEP_BEHIND);
          return; // updateend comes back here
        }
      }
      if (video.paused) {
        var p = video.play();
        if (p && p.catch)
          p.catch(function () {
            /* autoplay refused: the user clicks */
          });
      }
      if (!queue.length) return;
      try {
        sb.appendBuffer(queue.shift());
      } catch (e) {
        if (e.name === 'QuotaExceededError' && b.length) {
          sb.remove(b.start(0), Math.max(b.start(0) + 0.1, video.currentTime - 0.5));
        } else {
          status('MSE 错误 error: ' + e.message, true);
        }
      }
    }

    ws.onmessage = function (ev) {
      if (stopped) return;
      if (typeof ev.data === 'string') {
        var m;
        try {
          m = JSON.parse(ev.data);
        } catch (e) {
          return;
        }
        if (m.type === 'init') {
          if (!mseCanPlay(m.codec)) {
            onFallback('浏览器不支持 ' + m.codec + ' / this browser cannot play ' + m.codec + ' with MSE');
            return;
          }
          queue = []; // the binary init segment follows
          if (!sb || m.codec !== codec) setup(m.codec);
          status('缓冲中 Buffering · mse · ' + m.codec + (m.width ? ' · ' + m.width + '×' + m.height : ''));
        } else if (m.type === 'switch') {
          onFallback(m.reason || 'jsmpeg');
        } else if (m.type === 'end') {
          status('画面中断 Stream ended: ' + m.reason, true);
        }
        return;
      }
      queue.push(ev.data);
      if (queue.length > 200) queue.splice(0, queue.length - 200);
      pump();
    };
    ws.onclose = function (ev) {
      if (!stopped) onClosed(ev.code, ev.reason);
    };

    return {
      mode: 'mse',
      stop: function () {
        stopped = true;
        try {
          ws.close();
        } catch (e) {
          /* ignore */
        }
        teardownMedia();
        video.removeAttribute('src');
        video.load();
      },
    };
  }

  // ------------------------------------------------------------- JSMpeg player
  // JSMpeg (120 kB) is loaded on first use: on a slow box its parse and start-up cost the MSE
  // path 0.1-0.3 s of first picture when the page loaded it up front.
  var jsmpegWaiting = null;
  function loadJsmpeg(done) {
    if (window.JSMpeg) return done(true);
    if (!jsmpegWaiting) {
      jsmpegWaiting = [];
      var script = document.createElement('script');
      var settle = function (ok) {
        var waiting = jsmpegWaiting;
        jsmpegWaiting = null;
        waiting.forEach(function (f) {
          f(ok && !!window.JSMpeg);
        });
      };
      script.src = '/vendor/jsmpeg.min.js';
      script.onload = function () {
        settle(true);
      };
      script.onerror = function () {
        settle(false);
      };
      document.body.appendChild(script);
    }
    jsmpegWaiting.push(done);
  }

  function JsmpegPlayer(cameraId, stream) {
    var player = null;
    var stopped = false;
    loadJsmpeg(function (ok) {
      if (stopped) return;
      if (!ok) return status('JSMpeg 未加载 not loaded (/vendor/jsmpeg.min.js)', true);
      player = startJsmpeg(cameraId, stream);
    });
    return {
      mode: 'jsmpeg',
      stop: function () {
        stopped = true;
        if (player)
          try {
            player.destroy();
          } catch (e) {
            /* ignore */
          }
      },
    };
  }

  function startJsmpeg(cameraId, stream) {
    // A fresh canvas per player: JSMpeg's destroy() loses the old one's WebGL context for good.
    var fresh = document.createElement('canvas');
    fresh.id = 'canvas';
    canvas.replaceWith(fresh);
    canvas = fresh;
    return new window.JSMpeg.Player(wsUrl(cameraId, stream, 'jsmpeg'), {
      canvas: canvas,
      autoplay: true,
      audio: false,
      loop: false,
      pauseWhenHidden: false,
      disableGl: params.get('gl') === '0',
      preserveDrawingBuffer: true, // lets tests and snapshots read the canvas
      videoBufferSize: 1024 * 1024,
      reconnectInterval: 3,
      onVideoDecode: function () {
        frameShown();
      },
    });
  }

  // --------------------------------------------------------------------- flow
  function stopCurrent() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    if (current) current.stop();
    current = null;
  }

  function cameraById(cameraId) {
    for (var i = 0; i < live.cameras.length; i++) if (live.cameras[i].id === cameraId) return live.cameras[i];
    return null;
  }

  /** The title and the list's highlight for the open camera (again once the list has come). */
  function showSelected(cameraId) {
    var cam = cameraById(cameraId);
    $('title').textContent =
      (cam && cam.name ? cam.name + ' · ' : '') + cameraId + (cam ? ' · ' + cam.host : '') + ' · ' + (live.stream === 'main' ? '主码流 main' : '子码流 sub');
    var items = document.querySelectorAll('#cameras button');
    for (var j = 0; j < items.length; j++) items[j].classList.toggle('active', items[j].dataset.id === cameraId);
  }

  function open(cameraId, forceMode) {
    stopCurrent();
    var cam = cameraById(cameraId);
    live.camera = cameraId;
    live.startedAt = performance.now();
    live.firstFrameAt = null;
    live.firstFrameMs = null;
    live.framesShown = 0;
    live.error = null;
    live.codec = null;
    var mode = forceMode || choose(cam, live.stream);
    live.mode = mode;
    showSelected(cameraId);
    video.hidden = mode !== 'mse';
    canvas.hidden = mode !== 'jsmpeg';
    status('连接中 Connecting · ' + mode);
    if (mode === 'jsmpeg') {
      current = JsmpegPlayer(cameraId, live.stream);
      return;
    }
    current = MsePlayer(
      cameraId,
      live.stream,
      function (reason) {
        status('改用 JSMpeg / switching to JSMpeg: ' + reason);
        open(cameraId, 'jsmpeg');
      },
      function (code, reason) {
        if (code === 4004) return status('找不到摄像机或码流 Camera or stream not found', true);
        var wait = code === 4029 ? 10 : 3;
        status(
          (code === 4029 ? '观看人数已满 Too many viewers' : '连接断开 Disconnected') +
            (reason ? ': ' + reason : '') +
            ' · ' +
            wait +
            ' 秒后重试 retrying in ' +
            wait +
            ' s',
          true,
        );
        retryTimer = setTimeout(function () {
          open(cameraId);
        }, wait * 1000);
      },
    );
  }

  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    var onFrame = function () {
      if (live.mode === 'mse') frameShown();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    video.addEventListener('timeupdate', function () {
      if (live.mode === 'mse') frameShown();
    });
  }

  function renderCameras(cameras) {
    var ul = $('cameras');
    ul.textContent = '';
    if (!cameras.length) {
      var li = document.createElement('li');
      li.className = 'muted';
      li.textContent = '没有摄像机 No cameras (camgate discover / cameras add)';
      ul.appendChild(li);
      return;
    }
    cameras.forEach(function (c) {
      var li = document.createElement('li');
      var b = document.createElement('button');
      b.dataset.id = c.id;
      var title = document.createElement('span');
      title.textContent = c.name || c.id;
      b.appendChild(title);
      if (c.health) {
        var h = document.createElement('span');
        h.className = 'health-' + c.health;
        h.textContent = ' ● ';
        h.title = c.health;
        b.appendChild(h);
      }
      var sub = document.createElement('span');
      sub.className = 'sub';
      var s = streamInfo(c, live.stream);
      sub.textContent =
        c.host + (c.channel > 1 ? ' ch' + c.channel : '') + (s ? ' · ' + (s.codec || '?') + (s.width ? ' ' + s.width + '×' + s.height : '') : '');
      b.appendChild(sub);
      b.addEventListener('click', function () {
        var u = new URL(location.href);
        u.searchParams.set('camera', c.id);
        history.replaceState(null, '', u);
        open(c.id);
      });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  $('stream').addEventListener('change', function () {
    live.stream = this.value;
    renderCameras(live.cameras);
    if (live.camera) open(live.camera);
  });
  $('mode').addEventListener('change', function () {
    askedMode = this.value;
    if (live.camera) open(live.camera);
  });
  window.addEventListener('pagehide', stopCurrent);

  // A camera named in the URL opens at once, not after the list: without the list's codec the
  // page tries MSE, and the agent answers an H.265 stream with "switch" to JSMpeg.
  var wanted = params.get('camera');
  if (wanted) open(wanted);
  fetch('/api/cameras', { credentials: 'same-origin' })
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    })
    .then(function (body) {
      live.cameras = body.cameras || [];
      renderCameras(live.cameras);
      if (live.camera) showSelected(live.camera);
      else if (live.cameras.length) open(live.cameras[0].id);
    })
    .catch(function (e) {
      status('无法读取摄像机列表 Cannot list cameras: ' + e.message, true);
    });
})();
