import java.beans.XMLDecoder;
import java.io.*;
import com.thoughtworks.xstream.XStream;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import com.fasterxml.jackson.databind.ObjectMapper;

public class CoreDeser {
    Object load(byte[] bytes, InputStream in, String xml) throws Exception {
        // ruleid: pb.java.object-input-stream
        ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(bytes));
        Object o = ois.readObject();
        // ok: pb.java.object-input-stream
        Data d = new ObjectMapper().readValue(bytes, Data.class);
        // ruleid: pb.java.unsafe-xml-or-yaml-deserializer
        XMLDecoder dec = new XMLDecoder(in);
        XStream xs = new XStream();
        // ruleid: pb.java.unsafe-xml-or-yaml-deserializer
        Object x = xs.fromXML(xml);
        // ruleid: pb.java.unsafe-xml-or-yaml-deserializer
        Yaml yaml = new Yaml();
        // ok: pb.java.unsafe-xml-or-yaml-deserializer
        Yaml safe = new Yaml(new SafeConstructor(new LoaderOptions()));
        XStream xs2 = new XStream();
        xs2.allowTypes(new Class[] {Data.class});
        // ok: pb.java.unsafe-xml-or-yaml-deserializer
        Object y = xs2.fromXML(xml);
        return o;
    }

    Object filtered(InputStream in) throws Exception {
        ObjectInputStream ois2 = new ObjectInputStream(in);
        ois2.setObjectInputFilter(ObjectInputFilter.Config.createFilter("com.example.Data;!*"));
        // ok: pb.java.object-input-stream
        return ois2.readObject();
    }
}
