<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-matchesmapregex.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-matchesmapregex.php';
