<?php
function run_tools($host, $file) {
    // ruleid: pb.php.command-injection
    system("ping -c 1 " . $host);
    // ruleid: pb.php.command-injection
    $out = shell_exec($_GET['cmd']);
    // ok: pb.php.command-injection
    system("ping -c 1 " . escapeshellarg($host));
    // ok: pb.php.command-injection
    $df = shell_exec('df -h');
}

function find_user($conn, $pdo) {
    // ruleid: pb.php.sql-injection
    $r = mysqli_query($conn, "SELECT * FROM users WHERE id = " . $_GET['id']);
    $sql = "SELECT * FROM posts WHERE author = '" . $_POST['author'] . "'";
    // ruleid: pb.php.sql-injection
    $rows = $pdo->query($sql);
    // ok: pb.php.sql-injection
    $stmt = $pdo->prepare("SELECT * FROM users WHERE id = ?");
    $stmt->execute([$_GET['id']]);
    // ok: pb.php.sql-injection
    $all = $pdo->query("SELECT COUNT(*) FROM users");
}

function calc($expr) {
    // ruleid: pb.php.eval-injection
    eval('$result = ' . $expr . ';');
    // ok: pb.php.eval-injection
    $result = eval('return 1 + 1;');
}

function page() {
    // ruleid: pb.php.file-inclusion
    include $_GET['page'] . '.php';
    // ruleid: pb.php.file-inclusion
    $c = file_get_contents($_GET['file']);
    // ok: pb.php.file-inclusion
    $c2 = file_get_contents('/var/app/files/' . basename($_GET['file']));
    // ok: pb.php.file-inclusion
    include 'templates/header.php';
}

function go() {
    // ruleid: pb.php.open-redirect
    header("Location: " . $_GET['redirect']);
    // ok: pb.php.open-redirect
    header("Location: /dashboard.php");
}

function prefs() {
    // ruleid: pb.php.unserialize-untrusted
    $fav = unserialize($_COOKIE['favorites']);
    // ok: pb.php.unserialize-untrusted
    $fav2 = unserialize($_COOKIE['favorites'], ['allowed_classes' => false]);
    // ok: pb.php.unserialize-untrusted
    $fav3 = json_decode($_COOKIE['favorites'], true);
}

function greet() {
    // ruleid: pb.php.reflected-xss
    echo "Hello " . $_GET['name'];
    // ruleid: pb.php.reflected-xss
    die($_GET['error'] . ' ' . $_GET['error_description']);
    // ok: pb.php.reflected-xss
    echo "Hello " . htmlspecialchars($_GET['name'], ENT_QUOTES, 'UTF-8');
}
