package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jwtguard/jwtguard/ginjwt"
)

// wsHello is a WebSocket endpoint guarded by ginjwt's Verify, the way a
// real-time API checks the access token of its upgrade request. Clients
// that can set headers on the upgrade (mobile apps, servers) send it in
// Authorization; the endpoint greets the caller with one text message and
// closes. A production app would hand the connection to a WebSocket
// library (coder/websocket, gorilla/websocket) at the marked line, and
// check Verify again, or watch for revocation, on long-lived connections.
func wsHello(auth *ginjwt.Auth) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !strings.EqualFold(c.GetHeader("Upgrade"), "websocket") || c.GetHeader("Sec-WebSocket-Key") == "" {
			ginjwt.DefaultErrorHandler(c, ginjwt.ErrBadRequest)
			return
		}
		token, _ := ginjwt.FromHeader(c)
		claims, err := auth.Verify(c.Request.Context(), token)
		if err != nil {
			ginjwt.DefaultErrorHandler(c, err) // 401 with the reason, before any upgrade
			return
		}
		conn, rw, err := http.NewResponseController(c.Writer).Hijack()
		if err != nil {
			_ = c.Error(err)
			return
		}
		defer conn.Close()
		// From here on a WebSocket library takes over.
		accept := sha1.Sum([]byte(c.GetHeader("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(accept[:]) + "\r\n\r\n")
		hello, _ := json.Marshal(gin.H{"hello": claims.Subject, "session": claims.SessionID})
		_, _ = rw.Write(wsFrame(0x1, hello))          // text
		_, _ = rw.Write(wsFrame(0x8, []byte{3, 232})) // close, 1000 normal closure
		_ = rw.Flush()
	}
}

// wsFrame is one unmasked, final server frame of up to 65535 bytes (RFC 6455 §5.2).
func wsFrame(opcode byte, payload []byte) []byte {
	frame := []byte{0x80 | opcode}
	if n := len(payload); n < 126 {
		frame = append(frame, byte(n))
	} else {
		frame = append(frame, 126, byte(n>>8), byte(n))
	}
	return append(frame, payload...)
}
