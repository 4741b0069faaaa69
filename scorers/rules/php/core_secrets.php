<?php
// ruleid: pb.php.hardcoded-api-key, pb.php.hardcoded-password
$apikey = "AIzaSyB9_vfqgqGrIwOeY3tN9tHztRVEU_J7JwM";
// ok: pb.php.hardcoded-api-key
$apikey2 = getenv('GOOGLE_API_KEY');
?>
<!-- ruleid: pb.php.hardcoded-api-key -->
<script src="https://maps.googleapis.com/maps/api/js?key=AIzaSyA0rANX07hh6ASNKdBr4mZH0KZSqbHYc3Q"></script>
<?php
// ruleid: pb.php.hardcoded-password
define('DB_PASSWORD', 'Sup3rS3cret!');
// ok: pb.php.hardcoded-password
define('DB_PASSWORD_FROM_ENV', getenv('DB_PASSWORD'));
// ruleid: pb.php.hardcoded-password
$conn = mysqli_connect('localhost', 'root', 'toor123');
// ok: pb.php.hardcoded-password
$conn2 = mysqli_connect('localhost', 'app', getenv('DB_PASS'));
