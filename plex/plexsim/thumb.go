package plexsim

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
)

// Poster size the simulator draws: small, in the 2:3 shape of a film
// poster, so the demo and the tests show pictures without any files.
const thumbW, thumbH = 60, 90

// thumbPath reports whether rest (a path after /library/metadata/) is an
// item's artwork, "<ratingKey>/thumb/<version>", and returns the key.
func thumbPath(rest string) (rk string, ok bool) {
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] != "thumb" || parts[0] == "" || parts[2] == "" {
		return "", false
	}
	return parts[0], true
}

// handleThumb is GET /library/metadata/<ratingKey>/thumb/<version>: a
// generated PNG poster, coloured by the key (the same key, the same
// picture), with the key's digits drawn as bars so posters differ.
func (s *Server) handleThumb(w http.ResponseWriter, r *http.Request, rk string) {
	if !onlyGET(w, r) {
		return
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, posterImage(rk))
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(buf.Bytes())
}

// posterImage draws the poster of key rk: a two-tone gradient of a colour
// taken from the key, with a light band near the bottom like a title.
func posterImage(rk string) image.Image {
	h := fnv.New32a()
	_, _ = h.Write([]byte(rk))
	sum := h.Sum32()
	base := color.NRGBA{R: uint8(sum), G: uint8(sum >> 8), B: uint8(sum >> 16), A: 0xff}
	img := image.NewNRGBA(image.Rect(0, 0, thumbW, thumbH))
	for y := range thumbH {
		shade := 1 - 0.55*float64(y)/thumbH
		c := color.NRGBA{R: uint8(float64(base.R) * shade), G: uint8(float64(base.G) * shade), B: uint8(float64(base.B) * shade), A: 0xff}
		if y > thumbH*3/4 && y < thumbH*3/4+6 {
			c = color.NRGBA{R: 0xf0, G: 0xf0, B: 0xf0, A: 0xff}
		}
		for x := range thumbW {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}
