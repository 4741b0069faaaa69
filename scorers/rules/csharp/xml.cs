using System.IO;
using System.Xml;
using System.Runtime.Serialization.Formatters.Binary;
using System.Text.Json;

public class XmlUse
{
    public void Parse(string xml, Stream s)
    {
        var settings = new XmlReaderSettings();
        // ruleid: pb.csharp.xxe-dtd-processing
        settings.DtdProcessing = DtdProcessing.Parse;
        // ok: pb.csharp.xxe-dtd-processing
        settings.DtdProcessing = DtdProcessing.Prohibit;
        var doc = new XmlDocument();
        // ruleid: pb.csharp.xml-document-resolver
        doc.Load(s);
        var safeDoc = new XmlDocument();
        safeDoc.XmlResolver = null;
        // ok: pb.csharp.xml-document-resolver
        safeDoc.LoadXml(xml);
    }

    public object Read(Stream s)
    {
        // ruleid: pb.csharp.insecure-deserialization
        var bf = new BinaryFormatter();
        // ok: pb.csharp.insecure-deserialization
        var obj = JsonSerializer.Deserialize<MyDto>(s);
        return obj;
    }
}

public class MyDto { public int Id { get; set; } }
