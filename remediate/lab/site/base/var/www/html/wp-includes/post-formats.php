<?php
/**
 * WordPress-like lab stub for wp-includes/post-formats.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'post-formats.php';
