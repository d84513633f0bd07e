<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-user-request.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-user-request.php';
