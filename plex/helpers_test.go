package plex

import "encoding/xml"

func marshalXMLForTest(items []Metadata) ([]byte, error) {
	return xml.Marshal(Container{Size: Int(len(items)), Metadata: items})
}
