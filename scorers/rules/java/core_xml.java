import javax.xml.parsers.*;
import javax.xml.stream.*;
import org.xml.sax.XMLReader;
import org.xml.sax.helpers.XMLReaderFactory;

public class CoreXml {
    void dom(java.io.InputStream in) throws Exception {
        // ruleid: pb.java.xxe-parser-factory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        DocumentBuilder db = dbf.newDocumentBuilder();
        db.parse(in);
    }

    void domSafe(java.io.InputStream in) throws Exception {
        // ok: pb.java.xxe-parser-factory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        dbf.newDocumentBuilder().parse(in);
    }

    void sax(java.io.File f, org.xml.sax.helpers.DefaultHandler h) throws Exception {
        // ruleid: pb.java.xxe-parser-factory
        SAXParserFactory spf = SAXParserFactory.newInstance();
        SAXParser p = spf.newSAXParser();
        p.parse(f, h);
        // ruleid: pb.java.xxe-parser-factory
        XMLReader reader = XMLReaderFactory.createXMLReader();
        reader.parse(f.getPath());
    }

    void stax(java.io.InputStream body, boolean ext) throws Exception {
        // ruleid: pb.java.xxe-xmlinputfactory
        XMLInputFactory f1 = XMLInputFactory.newInstance();
        XMLStreamReader r1 = f1.createXMLStreamReader(body);
        // ok: pb.java.xxe-xmlinputfactory
        XMLInputFactory f2 = XMLInputFactory.newFactory();
        f2.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f2.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        // ruleid: pb.java.xxe-external-entities-enabled
        f2.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, ext);
        // ok: pb.java.xxe-external-entities-enabled
        f2.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, Boolean.FALSE);
    }
}
