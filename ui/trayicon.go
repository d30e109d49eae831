// The paused tray icon, drawn from the idle one: no second image to keep
// in step with the others.

package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// withPauseMark returns the PNG icon with a pause sign (two amber bars on
// a dark disc) in its lower right quarter; icon itself when it does not
// decode.
func withPauseMark(icon []byte) []byte {
	src, err := png.Decode(bytes.NewReader(icon))
	if err != nil {
		return icon
	}
	b := src.Bounds()
	img := image.NewNRGBA(b)
	draw.Draw(img, b, src, b.Min, draw.Src)
	size := b.Dx() / 2
	x0, y0 := b.Max.X-size, b.Max.Y-size
	disc := color.NRGBA{0x20, 0x20, 0x20, 0xff}
	bar := color.NRGBA{0xff, 0xb3, 0x00, 0xff}
	r := size / 2
	for y := range size {
		for x := range size {
			if dx, dy := x-r, y-r; dx*dx+dy*dy <= r*r {
				img.Set(x0+x, y0+y, disc)
			}
		}
	}
	w, h := size/6, size/2
	for _, bx := range []int{r - w - w/2, r + w/2} {
		draw.Draw(img, image.Rect(x0+bx, y0+r-h/2, x0+bx+w, y0+r+h/2), image.NewUniform(bar), image.Point{}, draw.Src)
	}
	var out bytes.Buffer
	if png.Encode(&out, img) != nil {
		return icon
	}
	return out.Bytes()
}
