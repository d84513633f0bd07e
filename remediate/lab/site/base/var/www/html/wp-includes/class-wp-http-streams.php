<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-http-streams.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-http-streams.php';
