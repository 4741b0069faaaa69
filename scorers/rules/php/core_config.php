<?php
// ruleid: pb.php.display-errors-enabled
ini_set('display_errors', 'on');
// ok: pb.php.display-errors-enabled
ini_set('display_errors', '0');
// ruleid: pb.php.phpinfo-exposed
phpinfo();
// ok: pb.php.phpinfo-exposed
$v = phpversion();

$link = mysqli_connect('localhost', 'app', getenv('DB_PASS'));
// ruleid: pb.php.error-detail-disclosure
$res = mysqli_query($link, 'SELECT 1') or die('Query failed: ' . mysqli_error($link));
try {
    work();
} catch (Exception $e) {
    // ruleid: pb.php.error-detail-disclosure
    echo "Error: " . $e->getMessage();
    error_log($e->getMessage());
    // ok: pb.php.error-detail-disclosure
    echo "An internal error occurred.";
}
